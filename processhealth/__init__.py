"""processhealth: does a team's process amplify the product, or has it become the product?"""

__version__ = "0.1.0"
