// libxml2's HTML parser with a tree builder of our own.
//
// libxml2's default builder (SAX2) spends a third of a parse on work a
// read-only extractor never needs: it copies every element and attribute
// name out of the parser's dictionary, splits each name on ':', checks each
// attribute against a DTD it never has, and tracks the current node so the
// tokenizer can test every run of whitespace against a list of 60 inline
// tags. This builder takes the same SAX events and makes the same tree,
// node for node (tests/sandbox/tree_builder_test.cc compares the two on
// real pages and on libxml2's HTML quirks), with names left in the
// dictionary (which the document keeps a reference to) and the current node
// on a stack of its own.
#pragma once

#include <libxml/HTMLparser.h>

#include <string>

namespace sandbox::html {

// htmlReadMemory with this builder: same arguments, same tree. Returns
// nullptr when libxml2 could not allocate (the parse stops at once).
htmlDocPtr read_html(const char* buffer, int size, const std::string& url,
                     const std::string& encoding, int options);

}  // namespace sandbox::html
