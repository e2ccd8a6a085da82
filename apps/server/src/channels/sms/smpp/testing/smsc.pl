#!/usr/bin/perl
# A small SMSC for Parley's tests and benchmark, built on Net::SMPP (Debian libnet-smpp-perl),
# so that Parley's ESME talks to an SMPP implementation that is not its own.
#
# It accepts bind_transceiver (checking system_id/password when given), answers enquire_link,
# submit_sm (with a fresh message id, optionally after a delay or with a chosen error status)
# and unbind, and decodes what it receives on its own (Encode's gsm0338 and UTF-16BE, UDH
# reassembly). Events go to stdout as JSON lines; commands come on stdin as JSON lines:
#   {"cmd":"deliver","conn":N,"source":"…","dest":"…","esm_class":0,"data_coding":0,
#    "short_message_hex":"…","receipted_message_id":"…","message_state":2}
#   {"cmd":"set","respond_delay_ms":N,"next_status":N}
#   {"cmd":"raw","conn":N,"hex":"…"}   (write bytes as given: malformed PDUs)
#   {"cmd":"enquire","conn":N}          (the SMSC asks the ESME whether it is alive)
#   {"cmd":"quiet","value":1}   (stop reporting each submit_sm: the benchmark)
#   {"cmd":"stats"}
# Usage: smsc.pl [--port N] [--system-id ID --password PW]   (port 0: any free port)
use strict;
use warnings;
use Net::SMPP;
use IO::Select;
use JSON::PP;
use Encode qw(decode);
use Time::HiRes qw(time);
use Getopt::Long;

my ($port, $system_id, $password) = (0, undef, undef);
GetOptions('port=i' => \$port, 'system-id=s' => \$system_id, 'password=s' => \$password) or die "bad options\n";

my $json = JSON::PP->new->utf8->canonical;
$| = 1;
sub emit { print $json->encode($_[0]), "\n" }

my $listener = Net::SMPP->new_listen('127.0.0.1', port => $port, smpp_version => 0x34, listen => 16)
  or die "cannot listen: $!\n";
emit({ event => 'listening', port => $listener->sockport });

my $select = IO::Select->new($listener, \*STDIN);
my %conns;           # fileno => { smpp, id, bound, outstanding }
my $next_conn = 0;
my $respond_delay = 0;
my $next_status;
my $quiet = 0;
my @due;             # delayed submit_sm_resp: [time, conn, seq, status, message_id]
my %parts;           # "dest|ref" => { total, got => { seq => text }, ids => [] }
my $message_counter = 0;
my $id_prefix = sprintf('%x', $$);
my %deliver_seq;     # "conn|seq" => 1, our deliver_sm awaiting deliver_sm_resp
my %totals = (submit_sm => 0, max_outstanding => 0);

sub conn_by_id { my ($id) = @_; for my $c (values %conns) { return $c if $c->{id} == $id } return undef }

sub close_conn {
  my ($c, $why) = @_;
  $select->remove($c->{smpp});
  delete $conns{ fileno($c->{smpp}) // -1 };
  for my $k (keys %conns) { delete $conns{$k} if $conns{$k} == $c }
  $c->{smpp}->close;
  emit({ event => 'closed', conn => $c->{id}, reason => $why });
}

sub text_of {
  my ($dc, $bytes) = @_;
  return decode('UTF-16BE', $bytes) if $dc == 8;
  return decode('gsm0338', $bytes) if $dc == 0;
  return decode('latin1', $bytes);
}

sub on_submit {
  my ($c, $pdu) = @_;
  my $status = 0;
  if (defined $next_status) { $status = $next_status; undef $next_status }
  my $message_id = $status ? '' : $id_prefix . '-' . ++$message_counter;
  $c->{outstanding}++;
  $totals{submit_sm}++;
  $totals{max_outstanding} = $c->{outstanding} if $c->{outstanding} > $totals{max_outstanding};
  my $sm = $pdu->{short_message} // '';
  my ($udh, $body) = ('', $sm);
  my ($ref, $total, $seqno);
  if (($pdu->{esm_class} & 0x40) && length $sm) {
    my $udhl = ord(substr($sm, 0, 1));
    $udh = substr($sm, 0, 1 + $udhl);
    $body = substr($sm, 1 + $udhl);
    my $i = 1;
    while ($i + 1 < length $udh) {
      my ($iei, $len) = (ord(substr($udh, $i, 1)), ord(substr($udh, $i + 1, 1)));
      ($ref, $total, $seqno) = unpack('CCC', substr($udh, $i + 2, 3)) if $iei == 0 && $len == 3;
      $i += 2 + $len;
    }
  }
  my $text = text_of($pdu->{data_coding}, $body);
  unless ($quiet) {
    emit({ event => 'submit_sm', conn => $c->{id}, seq => $pdu->{seq}, source => $pdu->{source_addr}, dest => $pdu->{destination_addr},
      esm_class => $pdu->{esm_class}, data_coding => $pdu->{data_coding}, registered_delivery => $pdu->{registered_delivery},
      short_message_hex => unpack('H*', $sm), udh_hex => unpack('H*', $udh), text => $text, message_id => $message_id,
      status => $status, outstanding => $c->{outstanding} });
    if (defined $total) {
      my $key = "$pdu->{destination_addr}|$ref";
      my $p = $parts{$key} //= { total => $total, got => {}, ids => [] };
      $p->{got}{$seqno} = $text;
      push @{ $p->{ids} }, $message_id;
      if (keys %{ $p->{got} } == $p->{total}) {
        emit({ event => 'message', dest => $pdu->{destination_addr}, parts => $total, message_ids => $p->{ids},
          data_coding => $pdu->{data_coding}, text => join('', map { $p->{got}{$_} } sort { $a <=> $b } keys %{ $p->{got} }) });
        delete $parts{$key};
      }
    } else {
      emit({ event => 'message', dest => $pdu->{destination_addr}, parts => 1, message_ids => [$message_id], data_coding => $pdu->{data_coding}, text => $text });
    }
  }
  push @due, [time + $respond_delay / 1000, $c, $pdu->{seq}, $status, $message_id];
  # The delay may have changed since the last one: keep the queue in due order.
  @due = sort { $a->[0] <=> $b->[0] } @due if @due > 1 && $due[-1][0] < $due[-2][0];
}

sub flush_due {
  my $now = time;
  while (@due && $due[0][0] <= $now) {
    my ($t, $c, $seq, $status, $message_id) = @{ shift @due };
    next unless $conns{ fileno($c->{smpp}) // -1 };
    $c->{outstanding}--;
    $c->{smpp}->submit_sm_resp(seq => $seq, status => $status, message_id => $message_id);
  }
}

sub on_pdu {
  my ($c, $pdu) = @_;
  my $cmd = $pdu->{cmd};
  my $smpp = $c->{smpp};
  if ($cmd == 0x00000009) {
    my $ok = (!defined $system_id || $pdu->{system_id} eq $system_id) && (!defined $password || $pdu->{password} eq $password);
    $smpp->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'PERLSMSC', status => $ok ? 0 : 0x0E);
    $c->{bound} = $ok;
    emit({ event => 'bind', conn => $c->{id}, system_id => $pdu->{system_id}, system_type => $pdu->{system_type}, interface_version => $pdu->{interface_version}, ok => $ok ? JSON::PP::true : JSON::PP::false });
  } elsif ($cmd == 0x00000015) {
    $smpp->enquire_link_resp(seq => $pdu->{seq});
    emit({ event => 'enquire_link', conn => $c->{id} }) unless $quiet;
  } elsif ($cmd == 0x00000004) {
    if ($c->{bound}) { on_submit($c, $pdu) } else { $smpp->submit_sm_resp(seq => $pdu->{seq}, status => 0x04, message_id => '') }
  } elsif ($cmd == 0x00000006) {
    $smpp->unbind_resp(seq => $pdu->{seq});
    emit({ event => 'unbind', conn => $c->{id} });
    close_conn($c, 'unbind');
  } elsif ($cmd == 0x80000005) {
    delete $deliver_seq{"$c->{id}|$pdu->{seq}"};
    emit({ event => 'deliver_sm_resp', conn => $c->{id}, seq => $pdu->{seq}, status => $pdu->{status} });
  } elsif ($cmd == 0x80000015) {
    emit({ event => 'enquire_link_resp', conn => $c->{id}, seq => $pdu->{seq} });
  } elsif ($cmd == 0x80000000) {
    emit({ event => 'generic_nack', conn => $c->{id}, seq => $pdu->{seq}, status => $pdu->{status} });
  } else {
    $smpp->generic_nack(seq => $pdu->{seq}, status => 0x03);
  }
}

sub on_command {
  my ($line) = @_;
  my $cmd = eval { $json->decode($line) };
  return emit({ event => 'error', message => "bad command: $line" }) unless ref $cmd eq 'HASH';
  if ($cmd->{cmd} eq 'deliver') {
    my $c = defined $cmd->{conn} ? conn_by_id($cmd->{conn}) : (sort { $b->{id} <=> $a->{id} } grep { $_->{bound} } values %conns)[0];
    return emit({ event => 'error', message => 'no such bound connection' }) unless $c;
    my @tlvs;
    push @tlvs, receipted_message_id => $cmd->{receipted_message_id} . "\0" if defined $cmd->{receipted_message_id};
    push @tlvs, message_state => pack('C', $cmd->{message_state}) if defined $cmd->{message_state};
    push @tlvs, message_payload => pack('H*', $cmd->{message_payload_hex}) if defined $cmd->{message_payload_hex};
    my $seq = $c->{smpp}->deliver_sm(async => 1, source_addr_ton => 1, source_addr_npi => 1, source_addr => $cmd->{source},
      dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => $cmd->{dest}, esm_class => $cmd->{esm_class} // 0,
      data_coding => $cmd->{data_coding} // 0, short_message => pack('H*', $cmd->{short_message_hex} // ''), @tlvs);
    $deliver_seq{"$c->{id}|$seq"} = 1;
    emit({ event => 'deliver_sm', conn => $c->{id}, seq => $seq });
  } elsif ($cmd->{cmd} eq 'raw') {
    # Bytes as given (a malformed PDU, to see how the ESME copes).
    my $c = conn_by_id($cmd->{conn} // 0) or return emit({ event => 'error', message => 'no such connection' });
    $c->{smpp}->syswrite(pack('H*', $cmd->{hex}));
    emit({ event => 'raw', conn => $c->{id} });
  } elsif ($cmd->{cmd} eq 'enquire') {
    my $c = conn_by_id($cmd->{conn} // 0) or return emit({ event => 'error', message => 'no such connection' });
    my $seq = $c->{smpp}->enquire_link(async => 1);
    emit({ event => 'enquire', conn => $c->{id}, seq => $seq });
  } elsif ($cmd->{cmd} eq 'set') {
    $respond_delay = $cmd->{respond_delay_ms} if exists $cmd->{respond_delay_ms};
    $next_status = $cmd->{next_status} if exists $cmd->{next_status};
    emit({ event => 'set' });
  } elsif ($cmd->{cmd} eq 'quiet') {
    $quiet = $cmd->{value} ? 1 : 0;
    emit({ event => 'quiet' });
  } elsif ($cmd->{cmd} eq 'stats') {
    emit({ event => 'stats', %totals, connections => scalar(keys %conns) });
  } else {
    emit({ event => 'error', message => "unknown command $cmd->{cmd}" });
  }
}

my $stdin_buf = '';
while (1) {
  my $timeout = @due ? $due[0][0] - time : undef;
  $timeout = 0 if defined $timeout && $timeout < 0;
  my @ready = $select->can_read($timeout);
  for my $fh (@ready) {
    if ($fh == $listener) {
      my $s = $listener->accept or next;
      my $c = { smpp => $s, id => $next_conn++, bound => 0, outstanding => 0 };
      $conns{ fileno($s) } = $c;
      $select->add($s);
      emit({ event => 'connect', conn => $c->{id} });
    } elsif ($fh == \*STDIN) {
      my $n = sysread(STDIN, $stdin_buf, 65536, length $stdin_buf);
      exit 0 unless $n;    # the test runner went away
      while ($stdin_buf =~ s/^([^\n]*)\n//) { on_command($1) if length $1 }
    } else {
      my $c = $conns{ fileno($fh) } or next;
      my $pdu = $c->{smpp}->read_pdu();
      if (!$pdu) { close_conn($c, 'eof'); next }
      on_pdu($c, $pdu);
    }
  }
  flush_due();
}
