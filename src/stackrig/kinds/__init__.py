"""The service kinds stackrig ships, one folder each.

Each folder exports a :class:`stackrig.services.ServiceKind` named ``KIND``, registered in the
``stackrig.kinds`` entry-point group like any third-party kind; nothing outside a kind's folder
knows it by name.  No kind imports another (a checked contract in pyproject.toml).
"""
