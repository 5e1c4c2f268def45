"""`aicache-lint server`: a language server (LSP over standard input and output).

``protocol`` is the pygls glue (imported only by the `server` subcommand: pygls is the optional
`[server]` extra); ``session`` holds the open documents and answers with the linter's own
api (check, the fix plan, ``--add-ignore``), and ``positions`` converts offsets to LSP positions.
Neither of the last two imports pygls.
"""
