#!/usr/bin/env bats
# --strategy layers, the seeds' custom client: the plugin reads the
# registry's manifest and fetches, blob by blob, only the layers the
# destination lacks.  Against the lab's real registry, and a proxy in front
# of it that breaks downloads on purpose (fixtures/registry-proxy.py), and a
# registry with token authentication (fixtures/token-server.py).

load helpers
load fixtures/proxy

FIX="$BATS_TEST_DIRNAME/fixtures"
MANIFEST_V2=application/vnd.docker.distribution.manifest.v2+json

setup_file() {
	dm_setup_file
	# layers over 1 MiB of incompressible bytes: the proxy breaks those
	mkdir -p "$BATS_FILE_TMPDIR/ctx"
	head -c 1500000 /dev/urandom >"$BATS_FILE_TMPDIR/ctx/a"
	head -c 1200000 /dev/urandom >"$BATS_FILE_TMPDIR/ctx/b"
	printf 'FROM %s\nCOPY a /a\nCOPY b /b\nRUN echo lay >/lay\n' \
		"${LAB_BASE_IMAGE:-dmlab/busybox:1}" >"$BATS_FILE_TMPDIR/ctx/Dockerfile"
}
setup() {
	dm_setup
	ldocker node1 build -q -t dmt/lay:1 "$BATS_FILE_TMPDIR/ctx" >/dev/null
	PIDS=()
}
teardown() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	lab_clean node1 node2 >/dev/null 2>&1 || true
}

# The image in the lab registry, pushed by the source engine.
push_image() {
	run_docker node1 tag dmt/lay:1 "$LAB_REGISTRY/dmt/lay:1"
	run_docker node1 push "$LAB_REGISTRY/dmt/lay:1"
	run_docker node1 rmi "$LAB_REGISTRY/dmt/lay:1"
}

# Bytes the missing layers weigh in the registry (compressed, as sent),
# plus the config: what the archive to the destination must carry.
missing_bytes() {
	local base
	base=$(ldocker node1 image inspect -f '{{len .RootFS.Layers}}' "$LAB_BASE_IMAGE")
	curl -fsS -H "Accept: $MANIFEST_V2" "http://$LAB_REGISTRY/v2/dmt/lay/manifests/1" |
		jq --argjson b "$base" '([.layers[$b:][].size] | add) + .config.size'
}

# The sent bytes are those blobs plus the archive's framing: a 512-byte
# header and padding per member, manifest.json, the end blocks.
check_bytes() {
	local sent=$1 need=$2
	((sent >= need)) || { echo "sent $sent < $need: a layer is missing" >&2; return 1; }
	((sent <= need + 8192)) || { echo "sent $sent > $need + 8192: more than the missing layers" >&2; return 1; }
}

layers_of() { ldocker "$1" image inspect -f '{{.Id}} {{.RootFS.Layers}}' "$2"; }

# Layers the destination engine holds (its layer store).
layer_count() { ls "$LAB_DIR/$1/docker/image/"*/layerdb/sha256 | wc -l; }

# Nothing arrived: no image, no new layer.
nothing_loaded() {
	run ldocker node2 image inspect dmt/lay:1
	is "$status" 1 "no image at the destination"
	is "$(layer_count node2)" "$1" "no layer left at the destination"
	is "$(ldocker node2 images -q --filter dangling=true)" "" "no dangling image"
}

@test "layers: only the missing layers' blobs travel; same image id and layers" {
	local bytes
	bytes=$(dm_json image dmt/lay:1 --to node2 --strategy layers \
		--registry "$LAB_REGISTRY" --format json | jq .bytes)
	is "$(layers_of node2 dmt/lay:1)" "$(layers_of node1 dmt/lay:1)" "same id and layers"
	check_bytes "$bytes" "$(missing_bytes)"
	is "$(ldocker node1 images --format '{{.Repository}}' | grep -c "$LAB_REGISTRY")" 0 \
		"the registry tag is removed at the source"
	run ldocker node2 run --rm dmt/lay:1 cat /lay
	is "$output" "lay" "the image runs at the destination"
}

@test "layers --no-push: a blob cut mid-way resumes with Range, and only once crosses" {
	local before bytes
	push_image
	start_proxy cut1
	before=$(layer_count node2)
	bytes=$(dm_json image dmt/lay:1 --to node2 --strategy layers \
		--registry "$PROXY" --no-push --format json | jq .bytes)
	is "$(layers_of node2 dmt/lay:1)" "$(layers_of node1 dmt/lay:1)" "same id and layers"
	contains "$(cat "$PROXY_LOG")" "bytes=1048576-" "the cut blob was resumed where it broke"
	check_bytes "$bytes" "$(missing_bytes)"
	is "$(layer_count node2)" "$((before + 3))" "three layers arrived"
}

@test "layers: an OCI manifest inside an OCI index, the destination's platform picked" {
	local reg=$LAB_REGISTRY v2 oci oci_digest v2_digest index
	push_image
	v2=$(curl -fsS -H "Accept: $MANIFEST_V2" "http://$reg/v2/dmt/lay/manifests/1")
	v2_digest=sha256:$(printf '%s' "$v2" | sha256sum | cut -d' ' -f1)
	oci=$(printf '%s' "$v2" | jq -c '.mediaType = "application/vnd.oci.image.manifest.v1+json"
		| .config.mediaType = "application/vnd.oci.image.config.v1+json"
		| .layers[].mediaType = "application/vnd.oci.image.layer.v1.tar+gzip"')
	oci_digest=sha256:$(printf '%s' "$oci" | sha256sum | cut -d' ' -f1)
	curl -fsS -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
		--data-binary "$oci" "http://$reg/v2/dmt/lay/manifests/oci" >/dev/null
	# another platform first: its entry must be passed over
	index=$(jq -cn --arg v2 "$v2_digest" --arg oci "$oci_digest" \
		--argjson v2size "$(printf '%s' "$v2" | wc -c)" \
		--argjson ocisize "$(printf '%s' "$oci" | wc -c)" '{schemaVersion: 2,
		mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
		{mediaType: "application/vnd.docker.distribution.manifest.v2+json",
		 digest: $v2, size: $v2size, platform: {architecture: "arm64", os: "linux", variant: "v8"}},
		{mediaType: "application/vnd.oci.image.manifest.v1+json",
		 digest: $oci, size: $ocisize, platform: {architecture: "amd64", os: "linux"}}]}')
	curl -fsS -X PUT -H "Content-Type: application/vnd.oci.image.index.v1+json" \
		--data-binary "$index" "http://$reg/v2/dmt/lay/manifests/multi" >/dev/null
	run_docker node1 tag dmt/lay:1 dmt/lay:multi
	start_proxy pass
	run_dm image dmt/lay:multi --to node2 --strategy layers --registry "$PROXY" --no-push
	is "$(layers_of node2 dmt/lay:multi)" "$(layers_of node1 dmt/lay:1)" "same id and layers"
	contains "$(cat "$PROXY_LOG")" "/manifests/$oci_digest" "the amd64 OCI manifest was read"
	run grep -c "/manifests/$v2_digest" "$PROXY_LOG"
	is "$output" 0 "the arm64 entry was passed over"
}

@test "layers: a blob whose digest does not match is refused, nothing is loaded" {
	local before
	push_image
	start_proxy flip
	before=$(layer_count node2)
	run_dm 1 image dmt/lay:1 --to node2 --strategy layers --registry "$PROXY" --no-push
	contains "$output" "does not match its digest" "says why"
	one_line_error
	nothing_loaded "$before"
	run dm_json history --format json
	is "$(printf '%s' "$output" | jq -r '.[-1].status')" "rolled-back" "recorded"
}

@test "layers: a registry answering 500, and a link that keeps breaking, fail with nothing loaded" {
	local before
	push_image
	before=$(layer_count node2)
	start_proxy 500
	run_dm 1 image dmt/lay:1 --to node2 --strategy layers --registry "$PROXY" --no-push
	contains "$output" "answered 500 for blob" "the registry's refusal"
	one_line_error
	nothing_loaded "$before"
	kill "${PIDS[0]}"
	wait "${PIDS[0]}" 2>/dev/null || true
	start_proxy cut
	run_dm 1 image dmt/lay:1 --to node2 --strategy layers --registry "$PROXY" --no-push
	contains "$output" "broke off at 1048576" "the break, and where"
	nothing_loaded "$before"
}

@test "layers: token authentication, credentials from config.json and from a helper, never shown" {
	local addr dir=$BATS_TEST_TMPDIR secret=s3cret-$RANDOM
	addr=$(bridge)
	push_image
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
		-days 1 -subj /CN=dm-token 2>/dev/null
	cat >"$dir/registry.yml" <<-EOF
	version: 0.1
	log: {level: error}
	storage: {filesystem: {rootdirectory: $LAB_DIR/registry/data}}
	http: {addr: "$addr:5001"}
	auth:
	  token: {realm: "http://$addr:5002/token", service: dm-registry, issuer: dm-token, rootcertbundle: $dir/cert.pem}
	EOF
	/usr/bin/docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
	PIDS+=($!)
	/usr/bin/python3 "$FIX/token-server.py" "$addr:5002" "$dir/key.pem" "$dir/cert.pem" \
		dmuser "$secret" dm-token dm-registry "$dir/token.log" 2>/dev/null &
	PIDS+=($!)
	wait_port "$addr:5001"
	wait_port "$addr:5002"

	run_dm 1 image dmt/lay:1 --to node2 --strategy layers --registry "http://$addr:5001" --no-push
	contains "$output" "token service answered 401 (credentials needed? docker login)" "anonymous refused"

	printf '{"auths":{"%s:5001":{"auth":"%s"}}}' "$addr" "$(printf dmuser:wrong | base64)" \
		>"$DOCKER_CONFIG/config.json"
	run_dm 1 image dmt/lay:1 --to node2 --strategy layers --registry "http://$addr:5001" --no-push
	contains "$output" "check the credentials" "a wrong password refused"

	printf '{"auths":{"%s:5001":{"auth":"%s"}}}' "$addr" "$(printf 'dmuser:%s' "$secret" | base64)" \
		>"$DOCKER_CONFIG/config.json"
	run_dm 1 image dmt/lay:1 --to node2 --strategy layers --registry "$addr:5001" --no-push
	contains "$output" "credentials over plain HTTP" "not sent in clear unless asked"
	run_dm image dmt/lay:1 --to node2 --strategy layers --registry "http://$addr:5001" --no-push
	is "$(layers_of node2 dmt/lay:1)" "$(layers_of node1 dmt/lay:1)" "with config.json's auths"
	run_docker node2 rmi dmt/lay:1

	mkdir -p "$dir/bin"
	cat >"$dir/bin/docker-credential-dmtest" <<-EOF
	#!/bin/sh
	read -r host
	[ "\$host" = "$addr:5001" ] || { echo "credentials not found in native keychain"; exit 1; }
	printf '{"ServerURL":"%s","Username":"dmuser","Secret":"%s"}\n' "\$host" "$secret"
	EOF
	chmod +x "$dir/bin/docker-credential-dmtest"
	printf '{"credHelpers":{"%s:5001":"dmtest"}}' "$addr" >"$DOCKER_CONFIG/config.json"
	PATH="$dir/bin:$PATH" run_dm image dmt/lay:1 --to node2 --strategy layers \
		--registry "http://$addr:5001" --no-push
	is "$(layers_of node2 dmt/lay:1)" "$(layers_of node1 dmt/lay:1)" "with a credential helper"
	contains "$(cat "$dir/token.log")" "dmuser repository:dmt/lay:pull 200" "a token for the pull scope"
	rm -f "$DOCKER_CONFIG/config.json"

	run grep -rl "$secret" "$DOCKER_CONFIG/migrate"
	is "$status" 1 "the secret is in no record"
	run "$DOCKER" migrate history
	[[ $output != *"$secret"* ]]
}

@test "layers: a container moves, its image fetched blob by blob" {
	run_docker node1 run -d --name dmt-lc --stop-timeout 1 dmt/lay:1 sleep 600
	run_dm container dmt-lc --to node2 --strategy layers --registry "$LAB_REGISTRY"
	run ldocker node2 exec dmt-lc cat /lay
	is "$output" "lay" "runs at the destination"
	is "$(ldocker node1 inspect -f '{{.State.Running}}' dmt-lc)" "false" "the source is stopped"
}

@test "layers: --registry is required, and a malformed one refused before anything moves" {
	run_dm 125 image dmt/lay:1 --to node2 --strategy layers
	contains "$output" "--strategy layers needs --registry" "missing"
	run_dm 125 image dmt/lay:1 --to node2 --strategy layers --registry 'reg;rm -rf /:5000'
	contains "$output" "expected [http[s]://]HOST[:PORT]" "malformed"
	run_dm 125 image dmt/lay:1 --to node2 --strategy layers --registry 'reg:99999'
	contains "$output" "bad port" "port out of range"
	usage_error "migrate image" "docker: --registry \"reg:99999\": bad port"
	run ldocker node2 image inspect dmt/lay:1
	is "$status" 1 "nothing at the destination"
}
