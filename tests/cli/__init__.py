"""Tests of cli/: every command, in process through the real entry point (a real process where exit
codes and tracebacks are the point)."""
