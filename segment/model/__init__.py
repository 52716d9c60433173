"""The U-Net, its losses and the weight average."""
