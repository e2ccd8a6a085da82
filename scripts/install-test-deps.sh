#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing: a PostgreSQL server (the
# suite runs on it as well as on embedded PGlite), Chromium (browser tests), and swaks, Dovecot,
# Postfix, openssl and dnsmasq (email channel tests). Needs root.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)
# The email channel's real peers: an SMTP client, an IMAP server, an MTA.
command -v swaks >/dev/null 2>&1 || need+=(swaks)
perl -MNet::SSLeay -MIO::Socket::SSL -e 1 2>/dev/null || need+=(libnet-ssleay-perl libio-socket-ssl-perl) # swaks's STARTTLS (only recommended by swaks)
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
[ -x /usr/sbin/postfix ] || need+=(postfix)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base) # DNS for senders' SPF, DKIM and DMARC records
[ -x /usr/sbin/bearerbox ] && [ -x /usr/lib/kannel/test/fakesmsc ] || need+=(kannel kannel-extras) # SMS: a real Kannel (bearerbox, smsbox, fakesmsc)
perl -MNet::SMPP -e 1 2>/dev/null || need+=(libnet-smpp-perl) # SMS: the SMSC of the SMPP tests (Net::SMPP)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
