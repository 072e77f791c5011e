#!/bin/sh
docker login acme.azurecr.io -u acme -p wB1I8WLGWYre7aPce1b2aBXRlLtLS5gZ
