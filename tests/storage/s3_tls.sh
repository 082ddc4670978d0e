#!/bin/sh
# TLS: certificates are always verified. A private CA is trusted through
# `ca_bundle`; without it the connection fails at once (no retries, one
# clear line); `insecure_skip_verify: true` connects anyway and warns at
# every start. moto serves https with a certificate from a CA made here.
. "$top_srcdir/tests/storage/s3_lib.sh"
command -v openssl >/dev/null 2>&1 || skip_all "openssl command not installed"
cd "$TMP" || exit 1

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sluice test CA" \
    -keyout ca.key -out ca.pem >/dev/null 2>&1 &&
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout srv.key -out srv.csr \
    >/dev/null 2>&1 &&
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext &&
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile san.ext -out srv.pem >/dev/null 2>&1
ok $? "a CA and a server certificate for 127.0.0.1"

export AWS_CA_BUNDLE="$TMP/ca.pem" # for awscli
MOTO_SCHEME=https start_moto_checked -c "$TMP/srv.pem" -k "$TMP/srv.key"
unset AWS_CA_BUNDLE                # sluice must not need it
AWS_CA_BUNDLE="$TMP/ca.pem" awsm s3 mb s3://src >/dev/null &&
    AWS_CA_BUNDLE="$TMP/ca.pem" awsm s3 cp "$DATA/hit_data.tsv" s3://src/hits.tsv >/dev/null
ok $? "moto over https (awscli trusting the CA)"

rule='  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://src/out/{name}"'
s3_config trusted.yaml "$MOTO_URL" "ca_bundle: $TMP/ca.pem"
add_rule_to trusted.yaml "$rule"
out=$("$SLUICE" -c trusted.yaml process s3://src/hits.tsv 2>log1); ok $? "ca_bundle: the CA is trusted"
is "$out" "s3://src/out/hits.tsv" "and the output written"
AWS_CA_BUNDLE="$TMP/ca.pem" awsm s3 cp s3://src/out/hits.tsv back.tsv >/dev/null
cmp -s "$DATA/hit_data.tsv" back.tsv; ok $? "byte-identical over https"
unlike "$(cat log1)" 'insecure' "no warning when verifying"

s3_config untrusted.yaml "$MOTO_URL" "max_attempts: 5"
add_rule_to untrusted.yaml "$rule"
"$SLUICE" -c untrusted.yaml process s3://src/hits.tsv >/dev/null 2>log2
is "$?" 1 "without the CA: the job fails"
like "$(grep 'job failed' log2)" 'job failed: s3://src/hits\.tsv: connection failed: .*(certificate|SSL)' \
    "a certificate error, in one line"
unlike "$(grep 'job failed' log2)" 'gave up after' "not retried"

s3_config missing.yaml "$MOTO_URL" "ca_bundle: $TMP/nothing.pem"
add_rule_to missing.yaml "$rule"
"$SLUICE" -c missing.yaml process s3://src/hits.tsv >/dev/null 2>log3
is "$?" 1 "a ca_bundle that does not exist fails"

s3_config insecure.yaml "$MOTO_URL" "insecure_skip_verify: true"
add_rule_to insecure.yaml "$rule"
"$SLUICE" -c insecure.yaml process s3://src/hits.tsv >/dev/null 2>log4
ok $? "insecure_skip_verify: connects without the CA"
like "$(cat log4)" "warn.*insecure_skip_verify is set: TLS certificates of https://127.0.0.1:$MOTO_PORT are NOT verified" \
    "and warns"
"$SLUICE" -c insecure.yaml process s3://src/hits.tsv >/dev/null 2>log5
is "$(grep -c 'insecure_skip_verify is set' log5)" 1 "at every start"
done_testing
