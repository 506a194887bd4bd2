"""Tests of reliability/: crashes (SIGKILL), concurrency across processes, faults (full disks, EIO,
EACCES), bounded memory."""
