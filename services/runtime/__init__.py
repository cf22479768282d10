"""The background half of the app: starting and stopping the services of one process, and the job lists they
schedule.
"""
