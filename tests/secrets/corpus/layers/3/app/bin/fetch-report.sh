#!/bin/sh
curl -H "Authorization: Bearer Qj8na3zo9UBpwYEzocYdJAonJynZFa98uOmJ2xqF" https://api.acme.internal/report
