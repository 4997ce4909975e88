#!/usr/bin/perl
# Every program the project's scripts run must come from a Debian package that the
# project installs itself, or CI on a fresh machine fails where ours passed (a missing
# kmod once did exactly that).
#
#   check-deps.pl [--install-deps FILE] [--mkosi-conf FILE] [--verbose]
#
# Host scripts (the Makefile's recipes, images/ scripts that run on the build host,
# tests/ shell scripts and TAP files): each command word is resolved with the shell's own
# PATH lookup, the file found is looked up with `dpkg -S`, and the owning package must be
# named in tests/install-deps.sh (any profile) or be Essential: yes.
# Scripts that run INSIDE the node image (mkosi.postinst, ramroot-init, selftest): the
# package must be in mkosi.conf's Packages= or of Priority required (what mkosi's
# debootstrap minbase installs), or Essential.
# tests/capture-sysfs.sh runs in a busybox guest (its applets come with busybox-static,
# which the capture profile installs) and is not scanned.
#
# Command words are found by a deliberately simple shell lexer: comments, here-documents
# and single-quoted text (awk, sed, jq programs and sh -c bodies) are dropped; the first
# word of every simple command (after ; | && || ( { $( ` and the keywords that start
# one) is taken, and so is the word after wrappers that run a command (exec, time, env,
# timeout N, nice, xargs, chroot DIR, ip netns exec NS, setsid, unshare ..., sudo).
# Functions defined in the scanned files, shell builtins and variable expansions are not
# programs. A word that does not resolve on this machine is a failure too: the scripts
# would run it.
# Output: one line per program ("ok PROG (/path, package)" with --verbose, "MISSING ..."
# always); exit 0 when everything is provided, 1 otherwise.
use strict;
use warnings;

my $install_deps = 'tests/install-deps.sh';
my $mkosi_conf = 'mkosi.conf';
my $verbose = 0;
while (@ARGV) {
	my $a = shift @ARGV;
	if ($a eq '--install-deps') { $install_deps = shift @ARGV; }
	elsif ($a eq '--mkosi-conf') { $mkosi_conf = shift @ARGV; }
	elsif ($a eq '--verbose') { $verbose = 1; }
	else { die "usage: check-deps.pl [--install-deps FILE] [--mkosi-conf FILE] [--verbose]\n"; }
}

sub slurp {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "check-deps: $f: $!\n";
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s;
}

# --- the packages the project installs --------------------------------------------------
# every word inside the double-quoted *_pkgs="..." assignments of install-deps.sh
my %installed_by_us;
{
	my $s = slurp($install_deps);
	while ($s =~ /\b\w+_pkgs="([^"]*)"/g) {
		for my $w (split /\s+/, $1) {
			next if $w eq '' || $w =~ /^\$/;
			$installed_by_us{$w} = 1;
		}
	}
}
my %in_image;
{
	my $s = slurp($mkosi_conf);
	if ($s =~ /^Packages=\n((?:[ \t]+.*\n|#.*\n)+)/m) {
		for my $l (split /\n/, $1) {
			$l =~ s/#.*//;
			$l =~ s/^\s+|\s+$//g;
			$in_image{$l} = 1 if $l ne '';
		}
	}
}
my (%essential, %required);
open(my $dq, '-|', 'dpkg-query', '-W', '-f=${Package} ${Essential} ${Priority}\n') or die;
while (<$dq>) {
	my ($p, $e, $prio) = split;
	$essential{$p} = 1 if defined $e && $e eq 'yes';
	$required{$p} = 1 if defined $prio && $prio eq 'required';
}
close $dq;

# What a named package directly depends on comes with it (python3 -> python3-minimal,
# build-essential -> gcc): one level, read from the installed packages' Depends.
{
	my @named = grep { !$essential{$_} } keys %installed_by_us;
	my %deps;
	open(my $dd, '-|', 'sh', '-c', 'dpkg-query -W -f="\${Package}\t\${Depends}\t\${Pre-Depends}\n" "$@" 2>/dev/null',
		'sh', @named) or die;
	while (<$dd>) {
		chomp;
		my ($p, @d) = split /\t/;
		for my $alt (split /,\s*/, join(', ', grep { $_ ne '' } @d)) {
			for my $a (split /\s*\|\s*/, $alt) {
				$a =~ s/[\s(:].*//;
				$deps{$a} = 1 if $a ne '';
			}
		}
	}
	close $dd;
	$installed_by_us{$_} //= 2 for keys %deps;
}
# install-deps.sh itself runs apt-get to install the rest: it cannot install its installer
my %bootstrap = (apt => 1);

# --- which files, and where they run ----------------------------------------------------
my @host = ('Makefile', glob('images/build.sh images/mkusb.sh images/usb-set-cmdline.sh'),
	'images/mkosi.finalize', glob('tests/*.t tests/*.sh tests/*/*.sh'));
@host = grep { $_ ne 'tests/capture-sysfs.sh' } @host;
# mkosi.postinst runs in the image while it is built (dpkg, which it then removes, is still
# there): its programs are checked by package, those of the boot's scripts in the image.
my @guest_build = ('images/mkosi.postinst');
my @guest = ('images/ramroot-init', 'images/selftest');

my %builtin = map { $_ => 1 } qw(
	. : [ alias bg break cd command continue echo eval exec exit export false fg getopts
	hash jobs kill local printf pwd read readonly return set shift test times trap true
	type ulimit umask unalias unset wait source declare typeset let mapfile readarray
	shopt pushd popd builtin caller disown enable help logout compgen complete);
my %keyword = map { $_ => 1 } qw(
	if then else elif fi for in do done while until case esac function select ! {
	} [[ ]] time);
# words after which the next word is (again) a command
my %wrapper = map { $_ => 1 } qw(exec time nice nohup setsid xargs sudo env command
	stdbuf ionice flock);

# Make: the programs behind the variables the recipes use
my %make_var = (CC => 'cc', AR => 'ar', FUZZ_CC => 'clang', PKG_CONFIG => 'pkg-config',
	MAKE => 'make');

my %functions;    # names defined as shell functions anywhere in the scanned files
my %uses;         # program => { file => 1 }
my %guest_uses;

# The command text of a shell script: quoted text, comments and here-document bodies are
# removed (a quoted string becomes ''), command substitutions inside double quotes are
# kept, each as a command of its own.
sub strip_shell {
	my ($text) = @_;
	my @c = split //, $text;
	my $out = '';
	my @ctx = ('sh');      # sh | dq | sub (a $( inside dq, which ends with ')')
	my @depth = (0);       # open ( of each sub context
	my @heredocs;          # delimiters whose bodies start at the next newline
	my $wordstart = 1;
	for (my $i = 0; $i < @c; $i++) {
		my $ch = $c[$i];
		my $cx = $ctx[-1];
		if ($cx eq 'dq') {
			if ($ch eq '\\') { $i++; next; }
			if ($ch eq '"') { pop @ctx; $out .= "''"; $wordstart = 0; next; }
			if ($ch eq '$' && ($c[$i + 1] // '') eq '(' && ($c[$i + 2] // '') ne '(') {
				push @ctx, 'sub'; push @depth, 0; $out .= ' ; '; $i++; $wordstart = 1; next;
			}
			if ($ch eq '`') { push @ctx, 'bq'; $out .= ' ; '; $wordstart = 1; next; }
			next;
		}
		# sh, sub or bq: command text
		if ($ch eq '\\') { $out .= ' '; $i++; next; }
		if ($ch eq "'") {
			$i++ while $i + 1 < @c && $c[$i + 1] ne "'";
			$i++;
			$out .= "''"; $wordstart = 0; next;
		}
		if ($ch eq '"') { push @ctx, 'dq'; next; }
		if ($ch eq '#' && $wordstart) {
			$i++ while $i + 1 < @c && $c[$i + 1] ne "\n";
			next;
		}
		if ($ch eq '`' && $cx eq 'bq') { pop @ctx; $out .= ' ; '; $wordstart = 1; next; }
		if ($ch eq '`') { push @ctx, 'bq'; $out .= ' ; '; $wordstart = 1; next; }
		if ($cx eq 'sub' && $ch eq '(') { $depth[-1]++; }
		if ($cx eq 'sub' && $ch eq ')') {
			if ($depth[-1] == 0) { pop @ctx; pop @depth; $out .= ' ; '; $wordstart = 0; next; }
			$depth[-1]--;
		}
		if ($ch eq '<' && ($c[$i + 1] // '') eq '<' && ($c[$i + 2] // '') ne '<') {
			my $rest = join('', @c[$i + 2 .. ($i + 80 < $#c ? $i + 80 : $#c)]);
			if ($rest =~ /^(-?)\s*(['"]?)(\w+)\2/) {
				push @heredocs, $3;
				$i += 1 + length($&);
				$out .= ' '; next;
			}
		}
		if ($ch eq "\n" && @heredocs) {
			$out .= "\n";
			for my $d (@heredocs) {   # skip each body up to its delimiter line
				while ($i + 1 < @c) {
					my $j = $i + 1;
					my $k = $j;
					$k++ while $k < @c && $c[$k] ne "\n";
					my $line = join('', @c[$j .. $k - 1]);
					$i = $k;
					last if $line =~ /^\t*\Q$d\E\s*$/;
				}
			}
			@heredocs = ();
			$wordstart = 1;
			next;
		}
		$out .= $ch;
		$wordstart = ($ch =~ /[\s;|&(){}]/) ? 1 : 0;
	}
	return $out;
}

sub scan {
	my ($file, $text, $dest) = @_;
	while ($text =~ /^\s*(?:function\s+)?([\w.-]+)\s*\(\)/mg) {
		$functions{$1} = 1;
	}
	my $s = strip_shell($text);
	# split into simple commands
	$s =~ s/\$\(\(.*?\)\)/0/g;             # arithmetic
	1 while $s =~ s/\$\{[^{}]*\}/x/g;        # parameter expansions
	$s =~ s/(^|;;|\bin\b)[ \t]*\(?[^\s()#;][^()\n;]*\)/$1 /mg;   # case patterns
	my @cmds = split /(?:\n|;;|;|\|\||&&|\||&|\$\(|`|\(|\)|\{|\}|\bthen\b|\bdo\b|\belse\b|\bif\b|\belif\b|\bwhile\b|\buntil\b|!\s)/, $s;
	for my $c (@cmds) {
		my @w = split /\s+/, $c;
		shift @w while @w && $w[0] eq '';
		my $expect_cmd = 1;
		while (@w && $expect_cmd) {
			my $w = shift @w;
			$w =~ s/^["']+|["']+$//g;
			last if $w eq '';
			next if $w =~ /^\w+=/;                 # VAR=value before the command
			next if $w =~ /^[0-9]*[<>]/;           # redirection (its target follows)
			last if $w eq 'in' || $w eq 'for' || $w eq 'case' || $w eq 'select';
			next if $keyword{$w};
			last if $w =~ /^[\$-]/;                # an expansion or an option
			last if $w =~ /\)$/;                   # a case pattern
			last unless $w =~ m{^[A-Za-z_][\w.+-]*$};
			$expect_cmd = 0;
			if ($w eq 'timeout') {                  # timeout [opts] N cmd
				shift @w while @w && $w[0] =~ /^-/;
				shift @w;
				$expect_cmd = 1;
				next;
			}
			if ($w eq 'chroot') { shift @w; $expect_cmd = 1; }
			if ($w eq 'ip' && @w >= 3 && $w[0] eq 'netns' && $w[1] eq 'exec') {
				splice(@w, 0, 3);
				$dest->{ip}{$file} = 1;
				$expect_cmd = 1;
				next;
			}
			if ($w eq 'unshare') {
				while (@w && $w[0] =~ /^-/) {
					my $o = shift @w;
					shift @w if $o =~ /^--(propagation|setgroups|map-user|map-group|root|wd)$/;
				}
				$expect_cmd = 1;
			}
			if ($w eq 'env' || $w eq 'xargs' || $w eq 'sudo' || $w eq 'nice' || $w eq 'stdbuf') {
				while (@w && ($w[0] =~ /^-/ || $w[0] =~ /^\w+=/)) {
					my $o = shift @w;
					shift @w if $o =~ /^-[unIPL]$/;    # options with an argument
				}
			}
			$expect_cmd = 1 if $wrapper{$w};
			next if $builtin{$w} || $keyword{$w};
			$dest->{$w}{$file} = 1;
		}
	}
}

for my $f (@host) {
	next unless -f $f;
	my $text = slurp($f);
	if ($f eq 'Makefile') {
		my @recipes;
		$text =~ s/\\\n/ /g;     # make's continuation lines
		for my $l (split /\n/, $text) {
			next unless $l =~ /^\t(.*)/;
			my $r = $1;
			$r =~ s/^[@-]+//;
			$r =~ s/\$\(shell\s+/\$(/g;
			$r =~ s/\$\((\w+)\)/exists $make_var{$1} ? $make_var{$1} : "\$$1"/ge;
			1 while $r =~ s/\$\((?:abspath|dir|notdir|wildcard|patsubst|addprefix|basename)\s[^()]*\)/x/g;
			$r =~ s/\$\$/\$/g;
			push @recipes, $r;
		}
		$text = join("\n", @recipes);
	}
	scan($f, $text, \%uses);
}
scan($_, slurp($_), \%guest_uses) for grep { -f } @guest;
my %build_uses;
scan($_, slurp($_), \%build_uses) for grep { -f } @guest_build;

# --- resolve and check --------------------------------------------------------------------
use Cwd qw(abs_path);
my %path_of;    # program => the file the shell would run
for my $prog (keys %uses, keys %guest_uses, keys %build_uses) {
	next if $functions{$prog} || exists $path_of{$prog};
	chomp(my $p = `command -v -- '$prog' 2>/dev/null`);
	$path_of{$prog} = $p;
}
# merged /usr: dpkg knows a file under the name its package ships it, so each file is
# looked up as found, with and without /usr, and as the file its symlinks lead to
sub variants {
	my ($path) = @_;
	my @v = ($path);
	push @v, "/usr$path" if $path =~ m{^/(bin|sbin|lib)/};
	push @v, $1 if $path =~ m{^/usr(/(?:bin|sbin|lib)/.*)};
	my $rp = abs_path($path);
	push @v, $rp if defined $rp && $rp ne $path;
	return @v;
}
my %owners;     # file => [packages], from one dpkg -S call (it is slow per call)
{
	my @all = map { variants($_) } grep { m{^/} } values %path_of;
	my %seen;
	@all = grep { !$seen{$_}++ } @all;
	if (@all) {
		open(my $ds, '-|', 'sh', '-c', 'dpkg -S -- "$@" 2>/dev/null; true', 'sh', @all) or die;
		while (my $line = <$ds>) {
			chomp $line;
			next if $line =~ /^diversion /;
			my ($pkgs, $file) = split /: /, $line, 2;
			next unless defined $file && $seen{$file};
			push @{ $owners{$file} }, map { s/:\w+$//r } split /,\s*/, $pkgs;
		}
		close $ds;
	}
}
sub owner {
	my ($path) = @_;
	for my $v (variants($path)) {
		return @{ $owners{$v} } if $owners{$v};
	}
	return ();
}

# Scripts of an install-deps.sh profile that `make test` does not install (make capture-qemu
# installs its own): a program of theirs that is not on this machine cannot be traced here
# (dpkg -S knows installed packages only) and is noted, not failed. Installed, it is checked.
my %profile_of = ('tests/qemu-capture.sh' => 'capture');

# The node image, when built: the programs of its own scripts must be in it. Read from the
# initrd (a zstd cpio of the whole root) once.
my %image_files;
my $image = 'build/image/pxe/initrd';
if (-s $image) {
	open(my $ls, '-|', "zstd -dc '$image' | cpio -it --quiet 2>/dev/null") or die;
	while (<$ls>) {
		chomp;
		s{^\./}{};
		$image_files{"/$_"} = 1;
	}
	close $ls;
}

my $failed = 0;
my $noted = 0;
sub check {
	my ($prog, $files, $allowed, $what, $guest) = @_;
	return if $functions{$prog};
	my $path = $path_of{$prog};
	my $where = join(', ', sort keys %$files);
	if ($guest && $guest == 1 && %image_files) {
		for my $d (qw(/usr/bin /usr/sbin /bin /sbin /usr/lib/systemd)) {
			if ($image_files{"$d/$prog"}) {
				print "ok $prog ($d/$prog in the image)\n" if $verbose;
				return;
			}
		}
		print "MISSING $prog: not in the image $image (run by $where)\n";
		$failed++;
		return;
	}
	if ($path eq '' || $path !~ m{^/}) {
		my @profiles = grep { defined } map { $profile_of{$_} } keys %$files;
		if ((@profiles && @profiles == keys %$files) || $guest) {
			print "note: $prog not on this machine, not checked (run by $where, "
				. (!$guest ? "profile @profiles" : $guest == 1 ? "in the image, which is not built"
				: "in the image while it is built") . ")\n";
			$noted++;
			return;
		}
		print "MISSING $prog: not found on this machine (run by $where)\n";
		$failed++;
		return;
	}
	my @pkgs = owner($path);
	if (!@pkgs) {
		print "MISSING $prog ($path): no Debian package owns it (run by $where)\n";
		$failed++;
		return;
	}
	for my $p (@pkgs) {
		if ($allowed->($p)) {
			print "ok $prog ($path, $p)\n" if $verbose;
			return;
		}
	}
	print "MISSING $prog ($path) comes from @pkgs, which $what (run by $where)\n";
	$failed++;
}

check($_, $uses{$_}, sub { $installed_by_us{$_[0]} || $essential{$_[0]} || $bootstrap{$_[0]} },
	"$install_deps does not install and is not Essential") for sort keys %uses;
check($_, $guest_uses{$_}, sub { $in_image{$_[0]} || $required{$_[0]} || $essential{$_[0]} },
	"is not in $mkosi_conf Packages= nor Priority required", 1) for sort keys %guest_uses;
check($_, $build_uses{$_}, sub { $in_image{$_[0]} || $required{$_[0]} || $essential{$_[0]} },
	"is not in $mkosi_conf Packages= nor Priority required", 2) for sort keys %build_uses;
my $n = keys(%uses) + keys(%guest_uses) + keys(%build_uses);
print "check-deps: $n programs, $failed not provided" . ($noted ? ", $noted not checked here" : "") . "\n";
exit($failed ? 1 : 0);
