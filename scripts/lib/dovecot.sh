# Shell helpers shared by scripts/demo and scripts/bench: a throw-away
# Dovecot on 127.0.0.1 from tests/fixtures/dovecot.conf.in (the same
# template the Rust tests use), with a test CA for TLS.
#   dovecot_start DIR IMAP_PORT IMAPS_PORT USER PASSWORD
#   dovecot_stop DIR
# DOVECOT_MAIL_FORMAT=mdbox (or sdbox) stores the mail in that format
# instead of the template's maildir: a maildir folder costs Dovecot more
# per message the more files it holds, a dbox folder does not.

dovecot_start() {
  local run=$1 port=$2 tlsport=$3 user=$4 password=$5 u g iu lu ig
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  # A Dovecot left over from an earlier run of the same folder.
  [ -f "$run/run/master.pid" ] && kill "$(cat "$run/run/master.pid")" 2>/dev/null && sleep 1
  rm -rf "$run"; mkdir -p "$run/mail" "$run/home"; chmod 755 "$run"
  (cd "$run"
   openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=triaged local CA" \
     -keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE \
     -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
   openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout key.pem -out server.csr 2>/dev/null
   printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
   openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
     -extfile ext.cnf -out cert.pem 2>/dev/null)
  echo "$password" > "$run/password"
  echo "$user:{PLAIN}$password" > "$run/users"
  if [ "$(id -u)" = 0 ]; then
    # Dovecot refuses uid 0 for mail and for its login processes.
    chown -R dovecot:dovecot "$run/mail" "$run/home"
    u=dovecot g=dovecot iu=dovecot lu=dovenull ig=dovecot
  else
    u=$(id -un) g=$(id -gn) iu=$u lu=$u ig=$g
  fi
  sed -e "s#@DIR@#$run#g; s#@PORT@#$port#g; s#@TLSPORT@#$tlsport#g; s#@USER@#$u#g; s#@GROUP@#$g#g" \
      -e "s#@INTERNALUSER@#$iu#g; s#@LOGINUSER@#$lu#g; s#@INTERNALGROUP@#$ig#g" \
      "$root/tests/fixtures/dovecot.conf.in" > "$run/dovecot.conf"
  case ${DOVECOT_MAIL_FORMAT:-maildir} in
    maildir) ;;
    mdbox|sdbox) sed -i "s#^mail_location = maildir:\([^:]*\):LAYOUT=fs\$#mail_location = $DOVECOT_MAIL_FORMAT:\1#" "$run/dovecot.conf"
      grep -q "^mail_location = $DOVECOT_MAIL_FORMAT:" "$run/dovecot.conf" || { echo "could not set the mail format in $run/dovecot.conf" >&2; return 1; } ;;
    *) echo "DOVECOT_MAIL_FORMAT=$DOVECOT_MAIL_FORMAT: use maildir, mdbox or sdbox" >&2; return 1 ;;
  esac
  dovecot -c "$run/dovecot.conf"
  for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$tlsport") 2>/dev/null && return 0; sleep 0.1; done
  echo "dovecot did not start; see $run/dovecot.log" >&2
  return 1
}

dovecot_stop() {
  doveadm -c "$1/dovecot.conf" stop 2>/dev/null || true
}
