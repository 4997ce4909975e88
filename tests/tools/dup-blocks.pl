#!/usr/bin/perl
# Repeated blocks in C sources: a run of more than MAX (default 10) significant lines that
# stands again elsewhere, to the letter or in the same shape with other names, strings and
# numbers, is code that wants to be one function.
#
#   dup-blocks.pl [--max N] FILE...
#
# Significant lines: not blank, not only a comment, not lone punctuation ({ } }; ) ;) and
# not #include. A line's shape keeps C keywords and punctuation and turns every other
# identifier into I, every number into N, every string or character literal into S.
# Runs made of at most two distinct shapes are tables (a list of symbols, a sequence of
# one call with other arguments) and are not reported. Overlapping places in one file are
# not pairs. Prints one line per pair ("FILE:A-B ~ FILE:C-D") and exits 1 if there is any.
use strict;
use warnings;

my $max = 10;
if (@ARGV && $ARGV[0] eq '--max') {
	shift @ARGV;
	$max = shift @ARGV;
}
my $win = $max + 1;

my %kw = map { $_ => 1 } qw(
	auto break case char const continue default do double else enum extern float for goto
	if inline int long register restrict return short signed sizeof static struct switch
	typedef union unsigned void volatile while bool size_t ssize_t NULL true false);

my @lines;    # [file, line number, shape]
my %file_lines;
for my $f (@ARGV) {
	open(my $fh, '<', $f) or die "dup-blocks: $f: $!\n";
	my $in_comment = 0;
	my $n = 0;
	my @sig;
	while (my $l = <$fh>) {
		$n++;
		chomp $l;
		if ($in_comment) {
			next unless $l =~ s{^.*?\*/}{};
			$in_comment = 0;
		}
		$l =~ s{/\*.*?\*/}{}g;
		if ($l =~ s{/\*.*$}{}) { $in_comment = 1; }
		$l =~ s{//.*$}{};
		$l =~ s/^\s+|\s+$//g;
		next if $l eq '' || $l =~ /^[{}();,]+$/ || $l =~ /^#\s*include\b/;
		my $shape = $l;
		$shape =~ s/"(?:[^"\\]|\\.)*"/S/g;
		$shape =~ s/'(?:[^'\\]|\\.)*'/S/g;
		$shape =~ s/\b(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b/N/g;
		$shape =~ s/\b([A-Za-z_]\w*)\b/$kw{$1} ? $1 : 'I'/ge;
		$shape =~ s/\s+//g;
		push @sig, [$f, $n, $shape];
	}
	close $fh;
	$file_lines{$f} = \@sig;
}

my %seen;    # window key => [file, index] of places
for my $f (sort keys %file_lines) {
	my $sig = $file_lines{$f};
	for (my $i = 0; $i + $win <= @$sig; $i++) {
		my @w = map { $sig->[$_][2] } $i .. $i + $win - 1;
		my %distinct = map { $_ => 1 } @w;
		next if keys(%distinct) <= 2;
		push @{ $seen{ join("\n", @w) } }, [$f, $i];
	}
}

# one report per pair of files and starting region: extend nothing, just list the first
# window of each run
my %reported;
my @out;
for my $key (sort { "@{$seen{$a}[0]}" cmp "@{$seen{$b}[0]}" } keys %seen) {
	my $places = $seen{$key};
	next if @$places < 2;
	for my $a (0 .. $#$places - 1) {
		for my $b ($a + 1 .. $#$places) {
			my ($fa, $ia) = @{ $places->[$a] };
			my ($fb, $ib) = @{ $places->[$b] };
			next if $fa eq $fb && abs($ia - $ib) < $win;
			# a longer run shows up as many windows: keep its first one
			my $tag = "$fa $fb " . ($ia - $ib);
			my $prev = $reported{$tag};
			next if defined $prev && $ia - $prev <= $win;
			$reported{$tag} = $ia;
			my $sa = $file_lines{$fa};
			my $sb = $file_lines{$fb};
			push @out, sprintf("%s:%d-%d ~ %s:%d-%d\n", $fa, $sa->[$ia][1], $sa->[$ia + $win - 1][1],
				$fb, $sb->[$ib][1], $sb->[$ib + $win - 1][1]);
		}
	}
}
print sort @out;
exit(@out ? 1 : 0);
