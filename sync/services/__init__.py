"""Writes of the sync engine, HackSoft style: ``<entity>_<action>(*, ...)``."""
