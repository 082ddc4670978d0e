# tests/infra/cfn_lib.sh — deploying a template of infra/cloudformation/ to
# the private moto of tests/moto.sh (sourced after it). awscli takes seconds
# to start on a loaded machine, so the stack's facts are read once.
#   cfn_deploy STACK TEMPLATE PARAMS_JSON  create-stack with the parameter file,
#                                          then reads the stack into $TMP/stack
#   cfn_status                             the stack's status
#   cfn_output KEY                         one output's value
#   cfn_param KEY                          one parameter of the deployed stack
#   cfn_report_unsupported TEMPLATE        says which resources moto skipped
#   moto_queue_url URL                     AWS's queue URL -> the same queue on moto
export MOTO_URL

cfn_deploy() {
    awsm cloudformation create-stack --stack-name "$1" --template-body "file://$2" \
        --parameters "file://$3" --capabilities CAPABILITY_IAM > "$TMP/create-stack" 2>&1
    ok $? "create-stack $1 with $(basename "$3")" || sed 's/^/# /' "$TMP/create-stack"
    # moto creates the stack synchronously: it is complete (or failed) now.
    mkdir -p "$TMP/stack"
    "$PYTHON3" "$top_srcdir/tests/infra/cfn_stack.py" facts "$1" "$TMP/stack"
}
cfn_status() { cat "$TMP/stack/status"; }
cfn_output() { cat "$TMP/stack/outputs/$1" 2>/dev/null; }
cfn_param() { cat "$TMP/stack/params/$1" 2>/dev/null; }
cfn_report_unsupported() {
    "$PYTHON3" "$top_srcdir/tests/infra/cfn_stack.py" template-types "$1" | LC_ALL=C sort > "$TMP/declared-types"
    LC_ALL=C sort "$TMP/stack/resources" > "$TMP/deployed-types"
    missing=$(LC_ALL=C comm -23 "$TMP/declared-types" "$TMP/deployed-types")
    if [ -n "$missing" ]; then
        printf '%s\n' "$missing" | sed 's/^/# not deployed: moto has no CloudFormation support for: /'
    fi
    # Every type moto skipped is one this test knows it lacks.
    unexpected=$(printf '%s\n' "$missing" | awk 'NF { print $2 }' | LC_ALL=C sort -u |
        grep -v -x -E 'AWS::SQS::QueuePolicy|AWS::AutoScaling::ScalingPolicy|AWS::CloudWatch::Alarm|AWS::Lambda::EventInvokeConfig')
    is "$unexpected" "" "moto skipped only the resource types known to be missing from it"
}
moto_queue_url() { printf '%s/%s\n' "$MOTO_URL" "$(printf '%s' "$1" | cut -d/ -f4-)"; }
