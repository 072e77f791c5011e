import os
DB_PASSWORD = "STP4Ic#42CBW"
SECRET_KEY = "Qvmc%p3m!FYy4@quiT6A3ngRkRiq4BI9Tlmz8Dwt!*TH1XaiTw"
payment_api_key = "a61aea276b223e4e9edc4de42dfab7e7"
refresh_token: str = "pvctLrZSnEUekTJqThYSYoQLFfOQNGcaLXfztc00"
