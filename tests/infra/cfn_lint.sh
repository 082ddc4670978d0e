#!/bin/sh
# The CloudFormation templates of infra/cloudformation/ are cfn-lint clean,
# and each test-parameters/<stack>.json sets only parameters its template
# declares, every required one (no default) included.
. "$top_srcdir/tests/lib.sh"
command -v cfn-lint >/dev/null 2>&1 || skip_all "cfn-lint not installed (pip install cfn-lint)"
D="$top_srcdir/infra/cloudformation"
for t in "$D"/*.yaml; do
    case $t in *.config.yaml) continue ;; esac
    name=$(basename "$t" .yaml)
    cfn-lint --format parseable "$t" > "$TMP/lint" 2>&1
    ok $? "cfn-lint $name.yaml" || sed 's/^/# /' "$TMP/lint"
    p="$D/test-parameters/$name.json"
    [ -f "$p" ]; ok $? "test-parameters/$name.json exists"
    "$PYTHON3" - "$t" "$p" > "$TMP/params" 2>&1 <<'PY'
import json, sys
import yaml
class L(yaml.SafeLoader):
    pass
L.add_multi_constructor("!", lambda l, s, n: None)
declared = yaml.load(open(sys.argv[1]), Loader=L)["Parameters"]
given = {p["ParameterKey"] for p in json.load(open(sys.argv[2]))}
for k in sorted(given - set(declared)):
    print("unknown parameter", k)
for k in sorted(set(declared) - given):
    if "Default" not in declared[k]:
        print("required parameter missing", k)
PY
    is "$(cat "$TMP/params")" "" "test-parameters/$name.json matches the template's parameters"
done
# cfn-lint bites: a template with an error is refused.
sed 's/Runtime: provided.al2023/Runtime: provided.al2099/' "$D/sluice-lambda.yaml" > "$TMP/broken.yaml"
cfn-lint "$TMP/broken.yaml" > /dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "cfn-lint refuses a template with an unknown Lambda runtime"
done_testing
