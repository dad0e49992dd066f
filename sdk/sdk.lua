-- placeholder; replaced below
return {}
