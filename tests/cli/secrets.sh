#!/bin/sh
# Secrets never reach logs, messages or `sluice validate`: AWS keys and
# session tokens from the environment and from a credentials file, and a
# webhook's signing secret, through successes, failures and debug logging.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/moto.sh"
moto_start
SECRET="S3cr3tK3yThatMustNeverLeak0123456789abcd"
TOKEN="SessionTokenThatMustNeverLeak-FQoGZXIvYXdzEJr"
HOOK="webhook-hmac-secret-never-in-logs"
FILE_SECRET="FileSecretFromProfileNeverLeaks987654321"

awsm s3 mb s3://in >/dev/null && awsm s3 mb s3://out >/dev/null
printf 'a\nb\n' > "$TMP/x"; awsm s3 cp "$TMP/x" s3://in/x.txt >/dev/null
dead=$CLOSED_PORT
cat > "$TMP/sluice.yaml" <<YAML
storage: {type: s3, endpoint: "$MOTO_URL", region: us-east-1, max_attempts: 2, retry_max_seconds: 2}
notify:
  hook: {type: webhook, url: "http://127.0.0.1:$dead/hook", secret_env: HOOK_SECRET, timeout: 1, max_attempts: 1}
on_failure: [hook]
on_success: [hook]
rules:
  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://out/{key}"
YAML
export HOOK_SECRET="$HOOK" AWS_SECRET_ACCESS_KEY="$SECRET" AWS_SESSION_TOKEN="$TOKEN"
all="$TMP/all.out"
: > "$all"
run() { "$SLUICE" --log-level debug "$@" >>"$all" 2>&1; }

run -c "$TMP/sluice.yaml" validate; ok $? "validate passes"
run -c "$TMP/sluice.yaml" process s3://in/x.txt
ok "$([ $? -ne 0 ]; echo $?)" "a job whose webhook is down does not exit 0"
run --log-format json -c "$TMP/sluice.yaml" process --force s3://in/x.txt
run -c "$TMP/sluice.yaml" notify-test hook
run -c "$TMP/sluice.yaml" runs list --json

# credentials from a profile file
unset AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID
mkdir -p "$TMP/aws"
printf '[default]\naws_access_key_id = AKIAPROFILEKEY\naws_secret_access_key = %s\n' "$FILE_SECRET" > "$TMP/aws/credentials"
AWS_SHARED_CREDENTIALS_FILE="$TMP/aws/credentials" AWS_CONFIG_FILE=/dev/null \
    run -c "$TMP/sluice.yaml" process --force s3://in/x.txt

like "$(cat "$all")" 'job done|job failed' "the runs produced logs to check"
for s in "$SECRET" "$TOKEN" "$HOOK" "$FILE_SECRET"; do
    if grep -qF "$s" "$all"; then r=1; else r=0; fi
    ok $r "secret ${s%"${s#????}"}… appears nowhere in the output"
done
# the record files hold events only
if grep -rqF -e "$SECRET" -e "$TOKEN" -e "$HOOK" "$TMP" --exclude=all.out --exclude=credentials --exclude=moto.log; then r=1; else r=0; fi
ok $r "nor in run records or any other file sluice wrote"
done_testing
