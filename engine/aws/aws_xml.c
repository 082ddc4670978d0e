/* aws_xml.c — libxml2 reading for AWS answers (aws_xml.h). */
#include "autoconfig.h"
#include "aws/aws_xml.h"

#include <libxml/parser.h>
#include <pthread.h>
#include <string.h>

#include "util/alloc.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_parser(void)
{
    xmlInitParser();
}

xmlDoc *aws_xml_parse(const char *xml, size_t len)
{
    if (!xml || len == 0 || len > (size_t)0x7fffffff)
        return NULL;
    /* libxml2 is thread-safe once initialised, by whichever thread is first */
    pthread_once(&init_once, init_parser);
    /* no network, no entity expansion beyond the predefined ones */
    return xmlReadMemory(xml, (int)len, "aws.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

int aws_xml_is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

xmlNode *aws_xml_child(const xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (aws_xml_is(c, name))
            return c;
    return NULL;
}

xmlNode *aws_xml_find(xmlNode *n, const char *name)
{
    for (; n; n = n->next) {
        if (aws_xml_is(n, name))
            return n;
        xmlNode *hit = n->type == XML_ELEMENT_NODE ? aws_xml_find(n->children, name) : NULL;
        if (hit)
            return hit;
    }
    return NULL;
}

char *aws_xml_text(const xmlNode *n)
{
    if (!n)
        return NULL;
    xmlChar *t = xmlNodeGetContent(n);
    char *s = xstrdup(t ? (const char *)t : "");
    xmlFree(t);
    return s;
}

char *aws_xml_child_text(const xmlNode *n, const char *name)
{
    return aws_xml_text(aws_xml_child(n, name));
}

char *aws_xml_find_text(const char *xml, size_t len, const char *name)
{
    xmlDoc *doc = aws_xml_parse(xml, len);
    if (!doc)
        return NULL;
    char *s = aws_xml_text(aws_xml_find(xmlDocGetRootElement(doc), name));
    xmlFreeDoc(doc);
    return s;
}
