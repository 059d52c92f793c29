-- wrk: POST /token with client_credentials; BASIC holds base64(id:secret).
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=docs%3Aread"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
