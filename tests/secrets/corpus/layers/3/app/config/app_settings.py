import os
DB_PASSWORD = "EeDBs8#78EHR"
SECRET_KEY = "ycVglWUUaerT2p#hludBHGB8En9^sLPPcxJ41bwzrg%o44TExH"
payment_api_key = "2063521644a72ab9c017c157df816e6d"
refresh_token: str = "NPCyBLrucOOTPdpXgjoijutKGHLabRawyYd36sZk"
