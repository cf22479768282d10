"""Paper trading: the trading desk (place, modify, cancel, reset), the order matcher, session jobs and private
events.
"""
