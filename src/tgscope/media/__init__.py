"""Media kept as evidence: the content-addressed files beside an archive, what they are,
and the pictures that look alike across channels."""

from .files import MediaStore, Stored, file_sha256

__all__ = ["MediaStore", "Stored", "file_sha256"]
