"""The use cases, one concern a module, each holding at most one lock.

- ``writes``: the one path of every write (the account's write lock, the ``Change`` recorded
  in the change log and the audit, the index updated after commit, conflicts retried).
- ``groups``, ``entries``, ``imports``, ``audit``: what a key may do with its account's data.
- ``campaigns``: the lists each campaign obeys (attached groups) and its calling window.
- ``campaign_checks``: "may this campaign call this number now?", answered from memory.
- ``feed``: the public change feed, the change log read after a signed token.
- ``checking``: the per-process check index, its refresh, and checks answered from memory.
- ``credentials``, ``failures``, ``auth``, ``accounts``: keys and tokens, the credential
  cache, the failed-authentication limit, and the operator's account commands.
- ``server_secret``: the service's secret key, configured or kept in the database.

``callblock.service.Service`` wires them together for the surfaces.
"""
