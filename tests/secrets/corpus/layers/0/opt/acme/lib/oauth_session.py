"""
    >>> session.fetch_access_token(url)
    {'oauth_token': 'sdf0o9823sjdfsdf', 'oauth_token_secret': '2kjshdfp92i34asdasd'}
    update_token = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
    :param private_key: e.g. `-----BEGIN RSA PRIVATE KEY-----MIIEpQIBAAKCAQEAvhZmfCroTn+GgBZtK6T1rZ/ga/OZRT39aRhaYKouotYQX9vz\\n.-----END RSA PRIVATE KEY-----`
"""
