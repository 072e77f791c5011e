#!/bin/sh
curl -H "Authorization: Bearer FCsIXTtuOgiUb2T1fqCMZo0cfV8rXxRJdAzbTQIS" https://api.acme.internal/report
