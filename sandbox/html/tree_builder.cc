#include "sandbox/html/tree_builder.h"

#include <libxml/HTMLtree.h>
#include <libxml/SAX2.h>
#include <libxml/dict.h>
#include <libxml/encoding.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <libxml/xmlmemory.h>

#include <climits>
#include <cstring>
#include <memory>
#include <vector>

namespace sandbox::html {
namespace {

// The state of one parse, reached from the parser context's _private.
struct Builder {
  xmlParserCtxtPtr ctxt = nullptr;
  std::vector<xmlNode*> open;  // open elements, innermost last (SAX2's nodeTab)
  // The text node that character data is being appended to, and the size of
  // its content buffer: consecutive chunks grow one node, as in SAX2.
  xmlNode* growing = nullptr;
  std::size_t growing_len = 0;
  std::size_t growing_cap = 0;
  bool out_of_memory = false;
};

Builder& builder_of(void* ctx) {
  return *static_cast<Builder*>(static_cast<xmlParserCtxtPtr>(ctx)->_private);
}

// Stops the parse for good: the caller frees what was built.
void fail(Builder& b) {
  b.out_of_memory = true;
  xmlStopParser(b.ctxt);
}

unsigned short line_of(xmlParserCtxtPtr ctxt) {
  if (ctxt->input == nullptr) return 0;
  return ctxt->input->line < USHRT_MAX ? static_cast<unsigned short>(ctxt->input->line) : USHRT_MAX;
}

xmlNode* new_node(xmlElementType type, xmlDoc* doc) {
  auto* node = static_cast<xmlNode*>(xmlMalloc(sizeof(xmlNode)));
  if (node == nullptr) return nullptr;
  std::memset(node, 0, sizeof(xmlNode));
  node->type = type;
  node->doc = doc;
  return node;
}

xmlChar* copy(const xmlChar* s, std::size_t len) {
  auto* out = static_cast<xmlChar*>(xmlMallocAtomic(len + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, s, len);
  out[len] = 0;
  return out;
}

// xmlAddChild for a node that is neither text nor an attribute, without its
// checks: both are fresh nodes of the same document.
void append(xmlNode* parent, xmlNode* child) {
  child->parent = parent;
  if (parent->last == nullptr) {
    parent->children = child;
  } else {
    parent->last->next = child;
    child->prev = parent->last;
  }
  parent->last = child;
}

// Links a comment or processing instruction where SAX2 would.
void link_misc(Builder& b, xmlNode* node) {
  xmlDoc* doc = b.ctxt->myDoc;
  if (b.open.empty()) {
    xmlAddChild(reinterpret_cast<xmlNode*>(doc), node);
  } else if (xmlNode* parent = b.open.back(); parent->type == XML_ELEMENT_NODE) {
    append(parent, node);
  } else {
    xmlAddSibling(parent, node);
  }
}

void on_start_document(void* ctx) {
  xmlSAX2StartDocument(ctx);
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  // Element and attribute names stay in the parser's dictionary; the
  // document holds a reference so they outlive the parser, and xmlFreeDoc
  // knows not to free them.
  if (ctxt->myDoc != nullptr && ctxt->myDoc->dict == nullptr && ctxt->dict != nullptr) {
    ctxt->myDoc->dict = ctxt->dict;
    xmlDictReference(ctxt->dict);
  }
}

// Element names come from the parser's dictionary, except those of the
// elements it implies (HTMLparser.c's htmlCheckImplied and
// htmlCheckParagraph), which are string literals: those four are looked up.
const xmlChar* element_name(xmlDoc* doc, const xmlChar* name) {
  const char* n = reinterpret_cast<const char*>(name);
  const bool implied = (n[0] == 'p' && n[1] == 0) || std::strcmp(n, "html") == 0 ||
                       std::strcmp(n, "head") == 0 || std::strcmp(n, "body") == 0;
  return implied ? xmlDictLookup(doc->dict, name, -1) : name;
}

// xmlIsID for HTML documents, plus SAX2's own xml:id case.
bool is_id(const xmlChar* attr, const xmlNode* element) {
  const char* a = reinterpret_cast<const char*>(attr);
  switch (a[0]) {
    case 'i':
      return a[1] == 'd' && a[2] == 0;
    case 'n':
      return std::strcmp(a, "name") == 0 && xmlStrEqual(element->name, BAD_CAST "a");
    case 'x':
      return std::strcmp(a, "xml:id") == 0;
    default:
      return false;
  }
}

bool add_attributes(Builder& b, xmlNode* element, const xmlChar** atts) {
  xmlDoc* doc = b.ctxt->myDoc;
  xmlAttr* last = nullptr;
  for (std::size_t i = 0; atts[i] != nullptr; i += 2) {
    const xmlChar* name = atts[i];
    const xmlChar* value = atts[i + 1];
    // <option selected> reads as selected="selected", as in SAX2.
    if (value == nullptr && htmlIsBooleanAttr(name)) value = name;
    auto* attr = static_cast<xmlAttr*>(xmlMalloc(sizeof(xmlAttr)));
    if (attr == nullptr) return false;
    std::memset(attr, 0, sizeof(xmlAttr));
    attr->type = XML_ATTRIBUTE_NODE;
    attr->name = name;  // attribute names always come from the parser's dictionary
    attr->parent = element;
    attr->doc = doc;
    if (last == nullptr) {
      element->properties = attr;
    } else {
      last->next = attr;
      attr->prev = last;
    }
    last = attr;
    if (value != nullptr) {
      xmlNode* text = new_node(XML_TEXT_NODE, doc);
      if (text == nullptr) return false;
      text->name = xmlStringText;
      text->content = copy(value, std::strlen(reinterpret_cast<const char*>(value)));
      if (text->content == nullptr) return false;
      text->parent = reinterpret_cast<xmlNode*>(attr);
      attr->children = attr->last = text;
    }
    if (is_id(name, element)) xmlAddID(&b.ctxt->vctxt, doc, value, attr);
  }
  return true;
}

void on_start_element(void* ctx, const xmlChar* name, const xmlChar** atts) {
  Builder& b = builder_of(ctx);
  xmlParserCtxtPtr ctxt = b.ctxt;
  xmlDoc* doc = ctxt->myDoc;
  if (doc == nullptr || name == nullptr || b.out_of_memory) return;
  if (doc->dict == nullptr) return fail(b);
  xmlNode* element = new_node(XML_ELEMENT_NODE, doc);
  if (element == nullptr) return fail(b);
  if (std::strchr(reinterpret_cast<const char*>(name), ':') != nullptr) {
    // "fb:like" becomes "like", as SAX2's xmlSplitQName makes it.
    xmlChar* prefix = nullptr;
    element->name = xmlSplitQName(ctxt, name, &prefix);
    xmlFree(prefix);
  } else {
    element->name = element_name(doc, name);
  }
  if (element->name == nullptr) {
    xmlFree(element);
    return fail(b);
  }
  element->line = line_of(ctxt);

  // Where SAX2 links a new element: the first one becomes the root; one
  // with no open parent goes under (or beside) the document's first child.
  xmlNode* parent = b.open.empty() ? nullptr : b.open.back();
  if (doc->children == nullptr) {
    xmlAddChild(reinterpret_cast<xmlNode*>(doc), element);
  } else if (parent == nullptr) {
    parent = doc->children;
  }
  b.open.push_back(element);
  if (parent != nullptr) {
    if (parent->type == XML_ELEMENT_NODE) {
      append(parent, element);
    } else {
      xmlAddSibling(parent, element);
    }
  }
  if (atts != nullptr && !add_attributes(b, element, atts)) fail(b);
}

void on_end_element(void* ctx, const xmlChar*) {
  Builder& b = builder_of(ctx);
  if (!b.open.empty()) b.open.pop_back();
}

void add_text(void* ctx, const xmlChar* ch, int len, xmlElementType type) {
  Builder& b = builder_of(ctx);
  if (b.open.empty() || len < 0 || b.out_of_memory) return;  // SAX2 drops text outside elements
  xmlNode* parent = b.open.back();
  xmlNode* last = parent->last;
  const auto n = static_cast<std::size_t>(len);
  if (last != nullptr && last->type == type &&
      (type != XML_TEXT_NODE || last->name == xmlStringText)) {
    // Consecutive chunks make one node, its buffer doubling as it grows.
    if (last != b.growing) {
      b.growing = last;
      b.growing_len = std::strlen(reinterpret_cast<const char*>(last->content));
      b.growing_cap = b.growing_len + 1;
    }
    if (b.growing_len + n >= b.growing_cap) {
      const std::size_t cap = (b.growing_cap + n) * 2;
      auto* grown = static_cast<xmlChar*>(xmlRealloc(last->content, cap));
      if (grown == nullptr) return fail(b);
      last->content = grown;
      b.growing_cap = cap;
    }
    std::memcpy(last->content + b.growing_len, ch, n);
    b.growing_len += n;
    last->content[b.growing_len] = 0;
    return;
  }
  xmlNode* text = new_node(type, b.ctxt->myDoc);
  if (text == nullptr) return fail(b);
  if (type == XML_TEXT_NODE) text->name = xmlStringText;
  text->content = copy(ch, n);
  if (text->content == nullptr) {
    xmlFree(text);
    return fail(b);
  }
  text->line = line_of(b.ctxt);
  append(parent, text);
  b.growing = text;
  b.growing_len = n;
  b.growing_cap = n + 1;
}

void on_characters(void* ctx, const xmlChar* ch, int len) { add_text(ctx, ch, len, XML_TEXT_NODE); }

void on_cdata(void* ctx, const xmlChar* ch, int len) {
  add_text(ctx, ch, len, XML_CDATA_SECTION_NODE);
}

void on_comment(void* ctx, const xmlChar* value) {
  Builder& b = builder_of(ctx);
  if (b.out_of_memory) return;
  xmlNode* node = xmlNewDocComment(b.ctxt->myDoc, value);
  if (node == nullptr) return fail(b);
  node->line = line_of(b.ctxt);
  link_misc(b, node);
}

void on_processing_instruction(void* ctx, const xmlChar* target, const xmlChar* data) {
  Builder& b = builder_of(ctx);
  if (b.out_of_memory) return;
  xmlNode* node = xmlNewDocPI(b.ctxt->myDoc, target, data);
  if (node == nullptr) return fail(b);
  node->line = line_of(b.ctxt);
  link_misc(b, node);
}

struct CtxtDeleter {
  void operator()(xmlParserCtxt* ctxt) const noexcept { xmlFreeParserCtxt(ctxt); }
};

}  // namespace

htmlDocPtr read_html(const char* buffer, int size, const std::string& url,
                     const std::string& encoding, int options) {
  // htmlReadMemory, step for step, with the tree-building callbacks swapped.
  xmlInitParser();
  std::unique_ptr<xmlParserCtxt, CtxtDeleter> ctxt(xmlCreateMemoryParserCtxt(buffer, size));
  if (!ctxt || ctxt->sax == nullptr) return nullptr;
  xmlSAXHandler sax{};
  xmlSAX2InitHtmlDefaultSAXHandler(&sax);
  std::memcpy(ctxt->sax, &sax, sizeof(xmlSAXHandlerV1));
  ctxt->sax->startDocument = on_start_document;
  ctxt->sax->startElement = on_start_element;
  ctxt->sax->endElement = on_end_element;
  ctxt->sax->characters = on_characters;
  ctxt->sax->cdataBlock = on_cdata;
  ctxt->sax->comment = on_comment;
  ctxt->sax->processingInstruction = on_processing_instruction;
  Builder builder;
  builder.ctxt = ctxt.get();
  builder.open.reserve(64);
  ctxt->_private = &builder;

  htmlCtxtUseOptions(ctxt.get(), options);
  ctxt->html = 1;
  if (!encoding.empty()) {
    if (xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler(encoding.c_str())) {
      xmlSwitchToEncoding(ctxt.get(), handler);
      if (ctxt->input->encoding != nullptr) xmlFree(const_cast<xmlChar*>(ctxt->input->encoding));
      ctxt->input->encoding = xmlStrdup(BAD_CAST encoding.c_str());
    }
  }
  if (ctxt->input != nullptr && ctxt->input->filename == nullptr) {
    ctxt->input->filename = reinterpret_cast<char*>(xmlStrdup(BAD_CAST url.c_str()));
  }
  htmlParseDocument(ctxt.get());
  htmlDocPtr doc = ctxt->myDoc;
  ctxt->myDoc = nullptr;
  if (builder.out_of_memory && doc != nullptr) {
    xmlFreeDoc(doc);
    return nullptr;
  }
  return doc;
}

}  // namespace sandbox::html
