#!/bin/sh
# PID 1 of the throwaway User-Mode Linux guest that runs pm's device-mapper
# tests. The host's root is mounted read-only (hostfs), so host binaries run
# unchanged; writable space is tmpfs. The host passes a folder through the
# kernel command line (pm_results=<host dir>): it holds job.sh (what to run)
# and receives output.txt and the exit code.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 tmpfs /run
# Scratch space lives under /run (the job exports TMPDIR=/run/tmp): a tmpfs
# over /tmp would hide a repository checked out under /tmp on the host.
mkdir -p /run/tmp && chmod 1777 /run/tmp
mount -t tmpfs -o mode=0755 tmpfs /mnt
results=
for word in $(cat /proc/cmdline); do
  case "$word" in
    pm_results=*) results=${word#pm_results=} ;;
  esac
done
mkdir -p /mnt/results
rc=99
if [ -n "$results" ] && mount -t hostfs -o "$results" hostfs /mnt/results; then
  # No udevd runs here: a stale udev control socket would make the
  # devicemapper crate wait forever for udev cookies.
  rm -f /run/udev/control
  sh /mnt/results/job.sh >/mnt/results/output.txt 2>&1
  rc=$?
  echo "$rc" >/mnt/results/rc
  sync
else
  echo "pm-uml: cannot mount the results folder ${results:-<none>}"
fi
echo "PM-UML-RESULT rc=$rc"
busybox poweroff -f
