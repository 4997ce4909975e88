#!/usr/bin/perl
# Write one SMBIOS structure to stdout as the kernel shows it in
# /sys/firmware/dmi/entries/T-I/raw: the formatted area (type, length, handle, fields at
# the offsets of the SMBIOS Reference Specification, DMTF DSP0134 3.7) and the string set
# (NUL-separated, ending in a double NUL). For fixtures where no machine could be captured
# (tests/make-health-fixtures.sh); tests/unit/test-smbios.c builds its own in C.
#
# usage: mk-smbios-entry.pl 16 HANDLE [use=N] [ecc=N] [devices=N] [max_kib=N] [length=N]
#        mk-smbios-entry.pl 17 HANDLE [array=H] [size=N] [form=N] [locator=S] [bank=S]
#            [type=N] [detail=N] [speed=N] [manufacturer=S] [serial=S] [asset=S] [part=S]
#            [rank=N] [ext_size=N] [configured=N] [voltage=N] [ext_speed=N]
#            [ext_configured=N] [length=N]
# Numbers are decimal or 0x-hex. length cuts the structure as an older SMBIOS version
# would (type 16: 0x0F in 2.1, 0x17 from 2.7; type 17: 0x15 in 2.1, 0x1B in 2.3, 0x22 in
# 2.7, 0x28 in 2.8 and 3.0, 0x5C in 3.3); fields past it are left out. Strings are
# numbered in the order above; an empty or absent string is index 0.
use strict;
use warnings;

my ($type, $handle, @args) = @ARGV;
die "usage: $0 16|17 HANDLE [key=value...]\n" unless defined $handle && $type =~ /^1[67]$/;
my %a = map { /^([a-z_]+)=(.*)$/s or die "$0: not key=value: $_\n"; ($1, $2) } @args;
sub num { my ($k, $d) = @_; my $v = $a{$k} // $d; $v =~ /^0x/i ? hex($v) : $v }
$handle = hex($handle) if $handle =~ /^0x/i;

my (@strings, $area);
sub str {
	my ($k) = @_;
	return 0 unless defined $a{$k} && length $a{$k};
	push @strings, $a{$k};
	return scalar @strings;
}

if ($type == 16) {
	my $length = num('length', 0x17);
	$area = pack('CCv', 16, $length, $handle)
	    . pack('CCC', 0x03, num('use', 3), num('ecc', 3))          # 04h location: system board
	    . pack('V', num('max_kib', 0x2000000))                    # 07h maximum capacity, KiB
	    . pack('v', 0xfffe)                                       # 0Bh no error information
	    . pack('v', num('devices', 2))                            # 0Dh number of devices
	    . pack('Q<', 0);                                          # 0Fh extended capacity
	$area = substr($area, 0, $length);
} else {
	my $length = num('length', 0x28);
	my @fields = (
		['v', num('array', 0)],                 # 04h physical memory array handle
		['v', 0xfffe],                          # 06h error information: not provided
		['v', 64], ['v', 64],                   # 08h total width, 0Ah data width
		['v', num('size', 0)],                  # 0Ch size
		['C', num('form', 2)],                  # 0Eh form factor
		['C', 0],                               # 0Fh device set
		['C', str('locator')],                  # 10h device locator
		['C', str('bank')],                     # 11h bank locator
		['C', num('type', 2)],                  # 12h memory type
		['v', num('detail', 0x80)],             # 13h type detail: synchronous
		['v', num('speed', 0)],                 # 15h speed, MT/s
		['C', str('manufacturer')],             # 17h
		['C', str('serial')],                   # 18h
		['C', str('asset')],                    # 19h
		['C', str('part')],                     # 1Ah
		['C', num('rank', 1)],                  # 1Bh attributes: rank
		['V', num('ext_size', 0)],              # 1Ch extended size, MiB
		['v', num('configured', 0)],            # 20h configured memory speed, MT/s
		(['v', num('voltage', 1200)]) x 3,        # 22h minimum, maximum, configured mV
		['C', 0x03], ['v', 0x0008],             # 28h technology DRAM, 29h capability
		['C', 0],                               # 2Bh firmware version: no string
		(['v', 0]) x 4,                         # 2Ch..33h module and controller ids
		(['Q<', 0]) x 4,                        # 34h..53h non-volatile .. logical size
		['V', num('ext_speed', 0)],             # 54h extended speed
		['V', num('ext_configured', 0)],        # 58h extended configured speed
	);
	$area = pack('CCv', 17, $length, $handle);
	$area .= pack($_->[0], $_->[1]) for @fields;
	die sprintf("%s: type 17 area is %#x bytes, want 0x5c\n", $0, length $area)
	    unless length $area == 0x5c;
	$area = substr($area, 0, $length);
	# strings whose index fields were cut off are not in the set either
	my $last = 0;
	for my $off (0x10, 0x11, 0x17, 0x18, 0x19, 0x1a) {
		next unless $off < $length;
		my $i = unpack('C', substr($area, $off, 1));
		$last = $i if $i > $last;
	}
	splice(@strings, $last) if $last < @strings;
}
binmode STDOUT;
print $area, @strings ? join("\0", @strings) . "\0\0" : "\0\0";
