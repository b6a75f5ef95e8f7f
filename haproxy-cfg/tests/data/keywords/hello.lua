-- a Lua file for lua-load: registers nothing
local greeting = "hello"
