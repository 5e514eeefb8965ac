"""The assistant's exact path: a question becomes a typed plan, DuckDB computes the answer, and any text a
model writes is checked against the facts before it is shown.

    plan = plan_question(question, patient_id=..., today=...)   # parse.py (deterministic)
    answer = run_plan(store, plan)                               # execute.py: figures from DuckDB
    verdict = verify_text(text, facts)                           # verify.py: every figure checked
"""
