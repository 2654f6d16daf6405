#!/usr/bin/perl
# Sends forged VRRPv3 adverts (IPv4, RFC 5798) from a raw socket: the lab's hostile neighbour.
# Usage: forge-vrrp.pl <src> <dst> <ttl> <vrid> <priority> <count> <interval-ms> <vip>...
# Bounded: exactly <count> packets to one unicast <dst>, <interval-ms> apart.
use strict;
use warnings;
use Socket qw(AF_INET SOCK_RAW IPPROTO_IP inet_aton pack_sockaddr_in);
use Time::HiRes qw(usleep);

my ($src, $dst, $ttl, $vrid, $priority, $count, $interval, @vips) = @ARGV;
die "usage: forge-vrrp.pl src dst ttl vrid priority count interval-ms vip...\n" unless @vips;
die "count must be 1..100\n" unless $count >= 1 && $count <= 100;

my $IP_HDRINCL = 3;
my $PROTO_VRRP = 112;

sub checksum {
  my ($data) = @_;
  $data .= "\0" if length($data) % 2;
  my $sum = 0;
  $sum += $_ for unpack("n*", $data);
  $sum = ($sum & 0xffff) + ($sum >> 16) while $sum >> 16;
  return ~$sum & 0xffff;
}

my ($s, $d) = (inet_aton($src), inet_aton($dst));
my $addrs = join("", map { inet_aton($_) } @vips);
# Version 3, type 1 (advertisement); the advert interval in centiseconds: 10 (100 ms).
my $head = pack("CCCCn", 0x31, $vrid, $priority, scalar(@vips), 10);
my $length = length($head) + 2 + length($addrs);
# VRRPv3's checksum covers an IPv4 pseudo-header too.
my $pseudo = $s . $d . pack("CCn", 0, $PROTO_VRRP, $length);
my $sum = checksum($pseudo . $head . pack("n", 0) . $addrs);
my $vrrp = $head . pack("n", $sum) . $addrs;
my $ip = pack("CCnnnCCn", 0x45, 0xc0, 20 + length($vrrp), 0, 0, $ttl, $PROTO_VRRP, 0) . $s . $d;
# The kernel fills in the IP header checksum (and the id) of an IP_HDRINCL packet.
my $packet = $ip . $vrrp;

socket(my $sock, AF_INET, SOCK_RAW, 255) or die "socket: $!\n";
setsockopt($sock, IPPROTO_IP, $IP_HDRINCL, 1) or die "IP_HDRINCL: $!\n";
for my $i (1 .. $count) {
  send($sock, $packet, 0, pack_sockaddr_in(0, $d)) or die "send: $!\n";
  usleep($interval * 1000) if $i < $count;
}
print "sent $count\n";
