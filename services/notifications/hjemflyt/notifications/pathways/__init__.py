"""The person's pathway (pasientforløp), as pathway announces it: a read model for orders."""
