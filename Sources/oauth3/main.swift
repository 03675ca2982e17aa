print("oauth3")
