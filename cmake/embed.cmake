# cmake -DINPUT=file -DOUTPUT=file.cc -DSYMBOL=name -P embed.cmake
# Writes a C++ file that defines `extern const std::string_view SYMBOL` holding
# INPUT's bytes, so the SDK's Lua source ships inside the binary.
file(READ "${INPUT}" content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," content "${content}")
file(WRITE "${OUTPUT}"
  "// Generated from ${INPUT} by cmake/embed.cmake. Do not edit.\n"
  "#include <string_view>\n"
  "namespace sandbox::embedded {\n"
  "static const char kData[] = {${content} 0};\n"
  "extern const std::string_view ${SYMBOL}(kData, sizeof(kData) - 1);\n"
  "}\n")
