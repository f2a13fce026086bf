"""Images built offline (debootstrap bases, wheels) and the local world stack."""
