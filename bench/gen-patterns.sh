#!/bin/sh
# gen-patterns.sh: prints N generated log-message regexes, like a knowledge base's `patterns:`,
# for bench/match-bench.c. One a line: FLAGS <tab> REGEX <tab> SAMPLE, where FLAGS holds i, m
# (or is "-") and SAMPLE is a log line the regex matches. Deterministic: same N, same output.
# Usage: sh bench/gen-patterns.sh [N]   (default 1000)
set -eu
n=${1:-1000}

awk -v n="$n" 'BEGIN {
	srand(7)
	ns = split("nvme ata usb xhci_hcd e1000e iwlwifi ext4 btrfs xfs md dm-crypt scsi i915 " \
	           "amdgpu snd_hda bluetooth thermal acpi pcieport systemd sshd dockerd kubelet " \
	           "containerd postgres nginx mysqld cron NetworkManager udevd mdadm smartd " \
	           "zfs lvm cups avahi wpa_supplicant rsyslogd chronyd auditd", sub_, " ")
	ne = split("timeout waiting for reset|failed to allocate buffer|link is down|" \
	           "I/O error|checksum mismatch|controller is down|device offline|" \
	           "firmware crashed|out of memory|no space left on device|permission denied|" \
	           "connection refused|journal aborted|read-only filesystem|bad block found|" \
	           "queue stalled|DMA mapping error|authentication failure|segfault|" \
	           "watchdog expired|corrupted metadata|transmit hang|power state change failed|" \
	           "thermal trip|lost carrier", ev, "|")
	nd = split("sda sdb nvme0n1 eth0 wlan0 md0 dm-0 loop3 card0 hci0", dev, " ")
	for (k = 0; k < n; k++) {
		s = sub_[1 + k % ns]
		e = ev[1 + int(k / ns) % ne]
		fam = (k + int(k / ns)) % 8
		d = dev[1 + int(rand() * nd)]
		num = int(rand() * 90000) + 100
		# Regex metacharacters in the subsystem name (none so far but "-") need no escape
		# outside a class; spaces stay literal.
		fl = "-"
		if (fam % 8 == 0) {
			re = "(?<sub>" s ")(?<unit>\\d+): " e " on (?<dev>[\\w-]+), code (?<code>0x[0-9a-f]+)"
			sm = s "3: " e " on " d ", code 0x" sprintf("%x", num)
		} else if (fam % 8 == 1) {
			re = s "\\[(?<pid>\\d+)\\]: " e ": (?<msg>.*)"
			sm = s "[" num "]: " e ": while handling request " num
		} else if (fam % 8 == 2) {
			re = s ": " e " \\(errno=(?<errno>-?\\d+)\\)"
			sm = s ": " e " (errno=-" (num % 120) ")"
		} else if (fam % 8 == 3) {
			re = s "\\s+" e "\\s+(?<what>\\S+)"
			sm = s " " e " /dev/" d
		} else if (fam % 8 == 4) {
			fl = "i"
			re = s ".*" e
			sm = toupper(substr(s, 1, 1)) substr(s, 2) " reported " toupper(e)
		} else if (fam % 8 == 5) {
			re = s " (?:" e "|retry " e ") after (?<ms>\\d+) ?ms"
			sm = s " retry " e " after " num " ms"
		} else if (fam % 8 == 6) {
			re = "kernel: \\[\\s*\\d+\\.\\d+\\] " s " (?<bus>\\d+-\\d+(?:\\.\\d+)*): " e
			sm = "kernel: [ " num ".123456] " s " 1-1.4: " e
		} else {
			fl = "m"
			re = "^(?<host>\\w+) " s ": " e " for (?<path>/[\\w/.-]+)$"
			sm = "host" (num % 50) " " s ": " e " for /var/lib/" d "/data"
		}
		printf "%s\t%s\t%s\n", fl, re, sm
	}
}'
