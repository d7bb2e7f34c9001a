"""Readers for files people bring: call-centre exports, labelled history."""
