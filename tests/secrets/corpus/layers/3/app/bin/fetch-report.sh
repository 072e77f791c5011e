#!/bin/sh
curl -H "Authorization: Bearer T7N9LHuPjkgMq9Q1Y2GXJBsfr91jVofMh719pThV" https://api.acme.internal/report
