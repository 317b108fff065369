"""Test infrastructure: a throwaway PostgreSQL server and headless Chromium."""
