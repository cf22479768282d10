"""Building blocks of the running process with no domain knowledge: green yielding, named caches, outbound HTTP,
the scheduler, leader election and the admin's view of jobs.
"""
