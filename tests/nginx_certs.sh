#!/bin/sh
# The certificates an nginx of the tests serves and checks, made fresh in
# DIR for one run (both harnesses call this: tests/harness.c, nginxd.py):
#   ca.pem, ca.key        the run's CA
#   server.pem/.key       localhost and 127.0.0.1, signed by the CA
#   capath/               the CA as a hashed directory (ca_path, --capath)
#   client.pem/.key       a client certificate the CA signed (CN=salvo client)
#   client-enc.key        its key encrypted with the password "salvo-key-pw"
#   client-both.pem       certificate and key in one file
#   other.pem/.key        a client certificate of another CA
#   expired.pem/.key      as server.pem, but its validity ended a day ago
set -e
cd "$1"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 \
  -subj '/CN=salvo test CA'
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.cnf
openssl req $ec -keyout server.key -out server.csr -subj '/CN=localhost'
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -out server.pem -days 2 -extfile server.cnf
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >client.cnf
openssl req $ec -keyout client.key -out client.csr -subj '/CN=salvo client'
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -out client.pem -days 2 -extfile client.cnf
openssl pkey -in client.key -aes256 -passout pass:salvo-key-pw -out client-enc.key
cat client.pem client.key >client-both.pem
openssl req -x509 $ec -keyout other.key -out other.pem -days 2 \
  -subj '/CN=salvo stranger'
openssl req $ec -keyout expired.key -out expired.csr -subj '/CN=localhost'
openssl x509 -req -in expired.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -out expired.pem -days -1 -extfile server.cnf
mkdir -p capath
cp ca.pem capath/
openssl rehash capath
