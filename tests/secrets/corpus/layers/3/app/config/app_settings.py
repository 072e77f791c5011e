import os
DB_PASSWORD = "AH7ie2#85SBC"
SECRET_KEY = "4GAB3F&&#fcfoz3HBxAH8Q!tN11Tv37#3T!re3nxjb^ZRA5!zI"
payment_api_key = "942231ae1d386ad1f03385b5324ced5c"
refresh_token: str = "Vt599h6HH2bQ46tQB6Jo1hncpoGDIvaSSTP4IcRI"
