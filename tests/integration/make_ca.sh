#!/bin/sh
# make_ca.sh DIR - a throw-away CA and a server certificate for test rigs.
#
# Writes DIR/ca.pem, DIR/ca.key, DIR/server.pem, DIR/server.key.  The server
# certificate is for "localhost" and 127.0.0.1 (both as subjectAltName), is
# signed by the CA, and lives one day.  Nothing here is secret: the keys
# exist only for the duration of a test run.  Needs the openssl command.
set -eu

dir=${1:?usage: make_ca.sh DIR}
mkdir -p "$dir"
cd "$dir"

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
	-days 1 -subj "/CN=greenlight test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
	-subj "/CN=localhost" 2>/dev/null
printf '%s\n' \
	"basicConstraints=CA:FALSE" \
	"keyUsage=critical,digitalSignature,keyEncipherment" \
	"extendedKeyUsage=serverAuth" \
	"subjectAltName=DNS:localhost,IP:127.0.0.1" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out server.pem -days 1 -extfile server.ext 2>/dev/null
rm -f server.csr server.ext ca.srl
