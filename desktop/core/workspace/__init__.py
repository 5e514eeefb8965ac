"""The workspace file: opening and creating it (``store``), its schema (``migrations``), encryption
(``crypto``, ``keyslot``, ``keys``), the one thread that talks to it (``executor``), its audit log
(``audit``) and the sentences its errors become (``errors``)."""
