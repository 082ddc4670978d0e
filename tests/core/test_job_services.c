/* test_job_services.c — the sluice_host table plugins receive
 * (engine/core/job_services.h): its ABI fields and the options readers
 * behind it. The job services themselves are exercised by every job the
 * end-to-end tests run. */
#include "autoconfig.h"

#include <jansson.h>

#include "core/job_services.h"
#include "tap.h"

static void test_table(void)
{
    const sluice_host *api = job_services_table();
    is_int(api->abi_version, SLUICE_PLUGIN_ABI_VERSION, "host table ABI");
    is_int((int64_t)api->struct_size, (int64_t)sizeof(sluice_host), "host table size");
    json_t *o = json_loads("{\"s\":\"x\",\"i\":5,\"n\":0.25,\"b\":true,\"l\":[1,\"two\"],"
                           "\"m\":{\"z\":1,\"a\":2},\"nul\":null}",
                           0, NULL);
    const sluice_value *v = (const sluice_value *)o;
    is_int(api->value_type(v), SLUICE_VALUE_MAP, "map type");
    is_str(api->value_string(api->value_get(v, "s"), NULL), "x", "string");
    is_int(api->value_int(api->value_get(v, "i"), 0), 5, "int");
    ok(api->value_number(api->value_get(v, "i"), 0) == 5.0, "int read as number");
    ok(api->value_number(api->value_get(v, "n"), 0) == 0.25, "number");
    is_int(api->value_type(api->value_get(v, "n")), SLUICE_VALUE_NUMBER, "number type");
    is_int(api->value_bool(api->value_get(v, "b"), 0), 1, "bool");
    is_int(api->value_bool(api->value_get(v, "s"), 7), 7, "bool default on type mismatch");
    is_str(api->value_string(api->value_get(v, "i"), "d"), "d", "string default on mismatch");
    is_int((int64_t)api->value_len(api->value_get(v, "l")), 2, "list length");
    is_str(api->value_string(api->value_at(api->value_get(v, "l"), 1), NULL), "two", "list item");
    ok(api->value_at(api->value_get(v, "l"), 2) == NULL, "out of range item is NULL");
    is_str(api->value_key_at(api->value_get(v, "m"), 0), "z", "map keys in document order");
    is_str(api->value_key_at(api->value_get(v, "m"), 1), "a", "second key");
    ok(api->value_get(v, "missing") == NULL, "absent member is NULL");
    is_int(api->value_type(api->value_get(v, "nul")), SLUICE_VALUE_NULL, "null type");
    is_int(api->value_type(NULL), SLUICE_VALUE_NULL, "NULL reads as null");
    json_decref(o);
}

int main(void)
{
    test_table();
    const sluice_host *api = job_services_table();
    ok(api->read && api->write && api->meta && api->input_name && api->input_size &&
           api->set_output_name && api->log && api->counter_add && api->error,
       "every job service is in the table");
    ok(SLUICE_HOST_HAS(api, lookup_open) && SLUICE_HOST_HAS(api, lookup_close) &&
           api->lookup_open && api->lookup_read && api->lookup_close,
       "the lookup-file services are in the table");
    ok(SLUICE_HOST_HAS(api, side_write) && api->side_write, "the side-object service is in the table");
    sluice_host old = *api;
    old.struct_size = offsetof(sluice_host, lookup_open);
    ok(!SLUICE_HOST_HAS(&old, lookup_open) && SLUICE_HOST_HAS(&old, error),
       "SLUICE_HOST_HAS tells an older, shorter table");
    ok(job_services_table() == api, "one table for the whole process");
    return done_testing();
}
