/* aws_xml.h — reading the XML AWS answers with (S3 listings and errors,
 * STS credentials, SNS's query API), through libxml2: the one XML helper.
 * Elements are matched by local name (AWS puts them in a default
 * namespace); entities are decoded by libxml2; nothing is fetched from
 * the network and no external entity is expanded.
 *
 * The parser is initialised once, on first use (pthread_once); every
 * function is thread-safe. */
#ifndef SLUICE_AWS_XML_H
#define SLUICE_AWS_XML_H

#include <libxml/tree.h>
#include <stddef.h>

/* Parses a document; NULL when `xml` is not XML (or empty). Free with
 * xmlFreeDoc. */
xmlDoc *aws_xml_parse(const char *xml, size_t len);
/* 1 when n is an element named `name`. */
int aws_xml_is(const xmlNode *n, const char *name);
/* The first child element named `name`, or NULL. */
xmlNode *aws_xml_child(const xmlNode *n, const char *name);
/* The first element named `name` at or below n and its following
 * siblings, depth first; NULL when none. */
xmlNode *aws_xml_find(xmlNode *n, const char *name);
/* An element's text as a new string ("" when empty), NULL for NULL. */
char *aws_xml_text(const xmlNode *n);
/* The text of n's child `name`, or NULL. */
char *aws_xml_child_text(const xmlNode *n, const char *name);
/* The text of the first element named `name` anywhere in the document
 * `xml`, or NULL (not XML, or no such element). */
char *aws_xml_find_text(const char *xml, size_t len, const char *name);

#endif
