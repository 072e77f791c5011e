#!/bin/sh
curl -H "Authorization: Bearer rDku2XVu2U0ihs2wfh6dQdYDJ7Y0liJGqXC9pRdf" https://api.acme.internal/report
