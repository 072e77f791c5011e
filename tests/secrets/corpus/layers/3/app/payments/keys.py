"""Payment provider settings."""
import os
STRIPE_KEY = os.environ["STRIPE_KEY"]
